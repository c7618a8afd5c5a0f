// Runs every benchmark suite in sequence, each in its own Node 24 process, and writes
// bench/results/<suite>.json, then bench/results/run.json (machine, timings, status) and the
// report (bench/report.mjs: summary.md, http.svg, the results section of bench/README.md).
//
//   npm run bench                   (builds the library first, then this file)
//   npx node bench/run.mjs http     (only the named suites; the others' last results stay)
//
// Suites: cookie (bench/cookie), webcrypto (bench/webcrypto: workerd, Deno, Bun), stores
// (bench/stores), guard (bench/guard), middleware, http and page (bench/http). Each has a time
// limit, so the whole run is bounded (under about 20 minutes on 2 CPUs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');

/** Turns "541 ns" / "1.64 µs" / "311.6 ms" (the guard table's cells) into nanoseconds. */
function parseDuration(cell) {
  const match = /^([\d.]+)\s*(ns|µs|us|ms|s)$/.exec(cell.trim());
  if (match === null) return null;
  const scale = { ns: 1, µs: 1e3, us: 1e3, ms: 1e6, s: 1e9 }[match[2]];
  return Number(match[1]) * scale;
}

/**
 * The guard bench prints mitata's report and ends with a markdown table of medians (it has no
 * JSON output of its own): that table becomes bench/results/guard.json.
 */
function guardResultFromOutput(output) {
  const lines = output.split('\n').filter((line) => line.startsWith('| '));
  const header = lines.findIndex((line) => line.startsWith('| path | rules |'));
  if (header < 0) throw new Error('guard bench: no result table in its output');
  const rows = lines
    .slice(header + 1)
    .filter((line) => !/^\|\s*-/.test(line))
    .map((line) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      return {
        path: cells[0],
        rules: cells[1],
        sessionkitNs: parseDuration(cells[2]),
        astroSessionkitNs: parseDuration(cells[3]),
        picomatchNs: parseDuration(cells[4]),
        astroSessionkitVsSessionkit: cells[5],
      };
    });
  const machineLine = output.split('\n').find((line) => line.startsWith('node '));
  return { suite: 'guard', date: new Date().toISOString(), machine: machineLine, rows };
}

// Rounds are cut so that the whole run stays under about 20 minutes on 2 CPUs with 10,000 users
// per suite (signing them in and sealing their cookies takes time of its own).
const suites = {
  cookie: {
    script: 'bench/cookie/cookie.bench.mjs',
    nodeArgs: ['--expose-gc'],
    env: { BENCH_ROUNDS: process.env.BENCH_ROUNDS ?? '12' },
    writesOut: true,
    limitSeconds: 240,
  },
  webcrypto: {
    script: 'bench/webcrypto/webcrypto.bench.mjs',
    env: { BENCH_WEBCRYPTO_ROUNDS: process.env.BENCH_WEBCRYPTO_ROUNDS ?? '8' },
    writesOut: true,
    limitSeconds: 360,
  },
  stores: {
    script: 'bench/stores/stores.bench.mjs',
    nodeArgs: ['--expose-gc'],
    env: { BENCH_ROUNDS: process.env.BENCH_ROUNDS ?? '10' },
    writesOut: true,
    limitSeconds: 300,
  },
  guard: { script: 'bench/guard/run.mjs', env: {}, writesOut: false, limitSeconds: 180 },
  middleware: {
    script: 'bench/http/middleware.bench.mjs',
    nodeArgs: ['--import', './bench/http/middleware-hooks.mjs'],
    env: {},
    writesOut: true,
    limitSeconds: 180,
  },
  http: {
    script: 'bench/http/http.bench.mjs',
    env: { BENCH_HTTP_ROUNDS: process.env.BENCH_HTTP_ROUNDS ?? '8' },
    writesOut: true,
    limitSeconds: 1200,
  },
  // After http: it loads the apps that suite built.
  page: {
    script: 'bench/http/page.bench.mjs',
    env: { BENCH_PAGE_ROUNDS: process.env.BENCH_PAGE_ROUNDS ?? '8' },
    writesOut: true,
    limitSeconds: 900,
  },
};

function runSuite(name, suite) {
  return new Promise((resolve) => {
    const out = join(resultsDir, `${name}.json`);
    const started = Date.now();
    const child = spawn(process.execPath, [...(suite.nodeArgs ?? []), join(repoRoot, suite.script)], {
      cwd: repoRoot,
      env: { ...process.env, ...suite.env, BENCH_OUT: out },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    const timer = setTimeout(() => {
      process.stderr.write(`\n[bench] ${name}: over ${suite.limitSeconds} s, stopping it\n`);
      child.kill('SIGTERM');
    }, suite.limitSeconds * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(((Date.now() - started) / 1000).toFixed(1));
      let status = code === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`;
      if (code === 0 && !suite.writesOut) {
        try {
          writeFileSync(out, `${JSON.stringify(guardResultFromOutput(output), null, 2)}\n`);
        } catch (error) {
          status = `failed (${error.message})`;
        }
      }
      if (code === 0 && suite.writesOut && !existsSync(out)) status = 'failed (no result file)';
      resolve({ suite: name, status, seconds });
    });
  });
}

function machineInfo() {
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout?.match(/v=(\S+)/)?.[1];
  return {
    cpus: availableParallelism(),
    cpu: cpus()[0]?.model?.trim(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()} ${process.arch}`,
    node: process.version,
    v8: process.versions.v8,
    redis,
  };
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(
      `Node ${process.versions.node}: run it as \`npm run bench\` (Node 24 from devDependencies).\n`,
    );
    process.exit(1);
  }
  const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  for (const name of requested) {
    if (!(name in suites)) throw new Error(`unknown suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
  }
  const names = requested.length > 0 ? requested : Object.keys(suites);
  mkdirSync(resultsDir, { recursive: true });
  const runFile = join(resultsDir, 'run.json');
  const previous = existsSync(runFile) ? JSON.parse(readFileSync(runFile, 'utf8')) : undefined;
  const started = Date.now();
  const loadBefore = loadavg();
  const statuses = [];
  for (const name of names) {
    process.stderr.write(`\n[bench] === ${name} ===\n`);
    const status = await runSuite(name, suites[name]);
    process.stderr.write(`[bench] ${name}: ${status.status} in ${status.seconds} s\n`);
    statuses.push(status);
  }
  // Suites not run this time keep their last status.
  const kept = (previous?.suites ?? []).filter((entry) => !names.includes(entry.suite));
  const run = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: { before: loadBefore.map((value) => Number(value.toFixed(2))), after: loadavg() },
    totalSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    suites: [...kept, ...statuses].sort(
      (a, b) => Object.keys(suites).indexOf(a.suite) - Object.keys(suites).indexOf(b.suite),
    ),
  };
  writeFileSync(runFile, `${JSON.stringify(run, null, 2)}\n`);
  if (!process.argv.includes('--no-report')) {
    const report = spawnSync(process.execPath, [join(repoRoot, 'bench', 'report.mjs')], { stdio: 'inherit' });
    if (report.status !== 0) process.exitCode = 1;
  }
  process.stderr.write(`[bench] done in ${run.totalSeconds} s\n`);
  if (statuses.some((status) => status.status !== 'ok')) process.exitCode = 1;
}

await main();
