// The workload on Deno, Bun or Node: prints the samples as one line of JSON.
//   deno run --no-remote --cached-only --allow-env bench/webcrypto/cli.mjs
//   bun bench/webcrypto/cli.mjs          node bench/webcrypto/cli.mjs
import { run } from './workload.mjs';

const runtime =
  globalThis.Deno !== undefined
    ? `Deno ${globalThis.Deno.version.deno}`
    : globalThis.Bun !== undefined
      ? `Bun ${globalThis.Bun.version}`
      : `Node ${process.version}`;
const rounds = Number(process.env.BENCH_WEBCRYPTO_ROUNDS ?? '5');
console.log(JSON.stringify(await run(rounds, runtime)));
