// Runs the guard bench under Node 24 on the built library (dist/), building it first when any
// file under src/ is newer than dist/internal/guard.js, and prints the machine it ran on.
// Usage: npx node bench/guard/run.mjs   (npx puts node_modules/.bin/node, Node 24, first)
//        GUARD_BASELINE=/path/to/other/dist npx node bench/guard/run.mjs   (before/after)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`Node ${process.versions.node}: run through npx (Node 24 from node_modules/.bin).\n`);
  process.exit(1);
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'dist', 'internal', 'guard.js');

/** Modification time of the newest file under `directory`, in milliseconds. */
function newest(directory) {
  let latest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

let builtAt = 0;
try {
  builtAt = statSync(built).mtimeMs;
} catch {
  // Not built yet.
}
if (builtAt < newest(join(root, 'src'))) {
  process.stdout.write('dist/ is missing or older than src/: npm run build\n');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

process.stdout.write(
  `node ${process.versions.node}, v8 ${process.versions.v8}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}, load ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}\n\n`,
);
await import('./guard.bench.ts');
