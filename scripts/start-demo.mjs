#!/usr/bin/env node
/**
 * `npm start`: builds sessionkit, builds the demo app (examples/demo) against it, and serves the
 * demo on http://127.0.0.1:4321 (PORT to change it).
 *
 * - Sessions: SQLite under examples/demo/data (DEMO_DATA_DIR to move it), or Redis with
 *   SESSIONKIT_DEMO_STORE=redis (REDIS_URL, default redis://127.0.0.1:6379).
 * - Secret: SESSIONKIT_SECRET if set, else 32 random bytes created on first run in
 *   <data dir>/secret (mode 0600) and reused, so sessions survive restarts.
 * - Flags: --skip-build serves the last build as it is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demoRoot = join(root, 'examples', 'demo');
const astroBin = join(root, 'node_modules', 'astro', 'bin', 'astro.mjs');
const entry = join(demoRoot, 'dist', 'server', 'entry.mjs');
const skipBuild = process.argv.includes('--skip-build');

function fail(message) {
  console.error(`\nstart-demo: ${message}`);
  process.exit(1);
}

function run(command, args, what) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
  });
  if (result.error) fail(`${what} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${what} failed (exit code ${result.status}).`);
}

/** Makes `import 'sessionkit/...'` in the demo resolve to this repository, like a workspace link. */
function linkPackage() {
  const modules = join(root, 'examples', 'node_modules');
  const link = join(modules, 'sessionkit');
  mkdirSync(modules, { recursive: true });
  let present = false;
  try {
    present = lstatSync(link).isSymbolicLink() || existsSync(link);
  } catch {
    present = false;
  }
  if (!present) symlinkSync('../..', link, 'dir');
}

/** The session secret: the env var, or the one saved on first run. */
function loadSecret(dataDir) {
  const fromEnv = process.env.SESSIONKIT_SECRET?.trim();
  if (fromEnv) return { secret: fromEnv, source: 'SESSIONKIT_SECRET' };
  const file = join(dataDir, 'secret');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const saved = readFileSync(file, 'utf8').trim();
    if (saved.length >= 43) return { secret: saved, source: relative(root, file) };
    console.warn(`start-demo: ${file} does not hold a 32-byte secret; writing a new one.`);
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, source: `${relative(root, file)} (new)` };
}

async function waitUntilServing(url, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      return true;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  return false;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  fail(
    `Node ${process.versions.node} is too old (sessionkit needs >= 22.13). Run it as \`npm start\`, which uses the repository's Node 24.`,
  );
}

const dataDir = resolve(process.env.DEMO_DATA_DIR ?? join(demoRoot, 'data'));
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const store = process.env.SESSIONKIT_DEMO_STORE === 'redis' ? 'redis' : 'sqlite';
const port = process.env.PORT ?? '4321';
const host = '127.0.0.1';

if (!skipBuild) {
  console.log('start-demo: building sessionkit (npm run build)...');
  run('npm', ['run', '--silent', 'build'], 'npm run build');
  linkPackage();
  console.log('start-demo: building the demo (astro build --root examples/demo)...');
  run(process.execPath, [astroBin, 'build', '--root', demoRoot], 'astro build');
} else {
  linkPackage();
}
if (!existsSync(entry)) fail(`${relative(root, entry)} is missing: run without --skip-build.`);

const { secret, source } = loadSecret(dataDir);
const child = spawn(process.execPath, [entry], {
  cwd: demoRoot,
  stdio: 'inherit',
  env: {
    ...process.env,
    ASTRO_TELEMETRY_DISABLED: '1',
    HOST: host,
    PORT: port,
    DEMO_DATA_DIR: dataDir,
    SESSIONKIT_SECRET: secret,
  },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

const url = `http://${host}:${port}`;
if (await waitUntilServing(url, child)) {
  const accounts = JSON.parse(readFileSync(join(demoRoot, 'demo-accounts.json'), 'utf8'));
  const where =
    store === 'redis'
      ? `Redis ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}`
      : `SQLite in ${relative(root, dataDir) || dataDir}`;
  console.log(
    `\n  sessionkit demo: ${url}   admin ${accounts.admin.email} / ${accounts.admin.password}   user ${accounts.user.email} / ${accounts.user.password}   (sessions: ${where}; secret: ${source}; Ctrl+C to stop)\n`,
  );
}
