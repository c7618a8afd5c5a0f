// Runs the guard bench under Node 24 and prints the machine it ran on.
// Usage: npx node bench/guard/run.mjs   (npx puts node_modules/.bin/node, Node 24, first)
import { availableParallelism, cpus, totalmem } from 'node:os';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`Node ${process.versions.node}: run through npx (Node 24 from node_modules/.bin).\n`);
  process.exit(1);
}
process.stdout.write(
  `node ${process.versions.node}, v8 ${process.versions.v8}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}\n\n`,
);
await import('./guard.bench.ts');
