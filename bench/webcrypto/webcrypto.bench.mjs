// The sealed-cookie operation on the runtimes sessionkit runs on besides Node's own suite:
// workerd (Cloudflare Workers, through `wrangler dev`), Deno and Bun, plus Node for reference.
// Every runtime runs the same workload (workload.mjs) on the built library, each in its own
// process: sessionkit on WebCrypto, sessionkit on its default engine, and iron-session 9, with
// 10,000 users of Zipf popularity; secondary rows for unseen and repeated cookies. Each variant's
// blocks are paired with a block of sessionkit on WebCrypto right next to them, and the figure is
// the median of those paired ratios; absolute times hold for this machine only.
//
//   npm run bench:webcrypto     (builds first)
//   BENCH_WEBCRYPTO_RUNTIMES=workerd,deno BENCH_WEBCRYPTO_ROUNDS=5 npx node bench/webcrypto/webcrypto.bench.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wranglerDev } from '../../test/runtimes/wrangler-dev.ts';
import { median, quantile } from '../support/ratios.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const rounds = Number(process.env.BENCH_WEBCRYPTO_ROUNDS ?? '15');
const quiet = { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' };
const iron = 'iron-session 9';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function versionOf(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...quiet } });
  return result.status === 0 ? result.stdout.trim().split('\n')[0] : 'unknown';
}

/** Runs a command to completion; resolves its stdout, rejects with its stderr. */
function collect(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...quiet, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} failed:\n${stderr}`))));
  });
}

/** The workload on workerd: `wrangler dev` serves worker.mjs; one request runs it. */
async function onWorkerd() {
  const port = await freePort();
  const inspectorPort = await freePort();
  const persist = mkdtempSync(join(tmpdir(), 'sessionkit-webcrypto-bench-'));
  const { args, env: wranglerEnv } = wranglerDev({
    config: join(root, 'bench/webcrypto/wrangler.json'),
    port,
    inspectorPort,
    persistTo: persist,
  });
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...quiet, ...wranglerEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
        break;
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const response = await fetch(`http://127.0.0.1:${port}/run?rounds=${rounds}`);
    if (!response.ok) throw new Error(`workerd run answered ${response.status}: ${await response.text()}`);
    const result = await response.json();
    return { ...result, runtime: `workerd ${versionOf(bin('workerd'), ['--version']).replace(/^workerd /, '')}` };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    rmSync(persist, { recursive: true, force: true });
  }
}

const cli = join(root, 'bench/webcrypto/cli.mjs');
const env = { BENCH_WEBCRYPTO_ROUNDS: String(rounds) };
const runtimes = {
  workerd: onWorkerd,
  deno: async () =>
    JSON.parse(await collect(bin('deno'), ['run', '--no-remote', '--cached-only', '--allow-env', cli], env)),
  bun: async () => JSON.parse(await collect(bin('bun'), [cli], env)),
  node: async () => JSON.parse(await collect(process.execPath, [cli], env)),
};

const round2 = (value) => Number(value.toFixed(2));

/** Rows of one runtime: median µs per operation over blocks, and the median of the paired ratios. */
function rowsOf(result) {
  return Object.entries(result.samples).map(([variant, samples]) => {
    const ratios = result.ratios[variant] ?? [1];
    return {
      runtime: result.runtime,
      variant,
      microsPerOp: round2(median(samples)),
      vsSessionkitWebCrypto: round2(median(ratios)),
      vsSessionkitWebCryptoQuartiles: [round2(quantile(ratios, 0.25)), round2(quantile(ratios, 0.75))],
    };
  });
}

async function main() {
  const selected = (process.env.BENCH_WEBCRYPTO_RUNTIMES ?? Object.keys(runtimes).join(',')).split(',');
  const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
  const results = [];
  for (const name of selected) {
    if (!(name in runtimes)) throw new Error(`unknown runtime "${name}" (known: ${Object.keys(runtimes).join(', ')})`);
    const started = Date.now();
    const result = await runtimes[name]();
    process.stderr.write(`[webcrypto] ${result.runtime}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    results.push(result);
  }
  const rows = results.flatMap(rowsOf);
  const summary = results.map((result) => ({
    runtime: result.runtime,
    ironVsSessionkitWebCrypto: round2(median(result.ratios[iron])),
    middleHalf: [round2(quantile(result.ratios[iron], 0.25)), round2(quantile(result.ratios[iron], 0.75))],
  }));
  console.table(rows.map(({ vsSessionkitWebCryptoQuartiles, ...row }) => row));
  console.table(summary);
  const output = {
    suite: 'webcrypto',
    date: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      cpu: cpus()[0]?.model?.trim(),
      node: process.version,
      loadAverage: { before: loadBefore, after: loadavg().map((value) => Number(value.toFixed(2))) },
    },
    settings: { ...results[0]?.settings, rounds },
    runtimes: results.map((result) => ({ runtime: result.runtime, prepareMs: result.prepareMs })),
    rows,
    summary,
  };
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(output, null, 2)}\n`);
}

await main();
