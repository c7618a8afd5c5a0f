// HTTP suite: the same one-page Astro 7 app (output server, @astrojs/node standalone) in seven
// variants (and a second server of the bare one), each built once and served by its own process
// on 127.0.0.1, driven by autocannon (a separate process) with a signed-in cookie. Each server is
// warmed up once, then run once per round over many short rounds, in an order shuffled every round; ratios are
// taken per round, and their medians reported.
//
//   npx node bench/http/http.bench.mjs     (run by bench/run.mjs; the library must be built)
//
// Variants (bench/http/apps/<name>, listed in bench/http/apps.mjs):
//   bare        no session library; the page prints a constant user id
//   bare-control a second server of the bare app: what the method reads for no difference
//   cookie      sessionkit, sealed-cookie mode (the default)
//   sqlite      sessionkit, sqliteStore
//   sqlite-raw  floor for sqlite: the page does one prepared SELECT by a plain id cookie
//   redis       sessionkit, redisStore (ioredis, auto-pipelining), 127.0.0.1:6379, own key prefix
//   redis-raw   floor for redis: the page does one GET by a plain id cookie
//   iron        iron-session 9 getIronSession() in the page, reading and not saving
// Diagnostics (only when named in BENCH_HTTP_VARIANTS):
//   noop-middleware  bare plus two pass-through middlewares (pre, post) registered as sessionkit does
//   cookie-nocsrf    cookie with `csrf: false`
//
// Every request carries a valid session that the request does not change (the common case: a
// signed-in user browsing), so no variant writes anything: the check below refuses to measure a
// variant whose page answers with a Set-Cookie or without the user id.
//
// Environment: BENCH_OUT (JSON file), BENCH_HTTP_ROUNDS (12), BENCH_HTTP_DURATION (2 s per run),
// BENCH_HTTP_WARMUP (2 s before each run), BENCH_HTTP_INITIAL_WARMUP (8 s per server, once),
// BENCH_HTTP_CONNECTIONS (50), BENCH_HTTP_VARIANTS (comma list),
// BENCH_HTTP_SKIP_BUILD=1 (reuse the last builds), BENCH_HTTP_CPU_PROF=<variant,...> (serve those
// variants with --cpu-prof into bench/.tmp/profiles/<variant>/; see bench/http/profile.mjs),
// BENCH_PIN=0 (do not pin the server's and the load generator's main threads to CPUs 1 and 0).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childEnv } from '../../test/support/child-env.ts';
import { freePort } from '../../test/support/services.ts';
import { median } from '../support/ratios.mjs';
import {
  appsEnv,
  appsRoot,
  buildAll,
  linkPackage,
  removeRedisKeys,
  runnableVariants,
  selectVariants,
  signInAndCheck,
} from './apps.mjs';
import { pinMainThread, rssMiB, shuffled } from './support.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const loadScript = fileURLToPath(new URL('./load.mjs', import.meta.url));
const exitOnSignal = pathToFileURL(fileURLToPath(new URL('./exit-on-signal.mjs', import.meta.url))).href;

const settings = {
  rounds: Number(process.env.BENCH_HTTP_ROUNDS ?? 12),
  durationSeconds: Number(process.env.BENCH_HTTP_DURATION ?? 2),
  warmupSeconds: Number(process.env.BENCH_HTTP_WARMUP ?? 2),
  initialWarmupSeconds: Number(process.env.BENCH_HTTP_INITIAL_WARMUP ?? 8),
  connections: Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50),
};

const redisPort = Number(process.env.BENCH_REDIS_PORT ?? 6379);
const redisPrefix = `sessionkit-bench-http:${process.pid}:`;

function log(message) {
  process.stderr.write(`[http] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Redis on 127.0.0.1:6379 (shared): start it as PLATFORM-NOTES says if it does not answer.

function redisVersion() {
  const info = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), 'info', 'server'], {
    encoding: 'utf8',
  });
  return /redis_version:(\S+)/.exec(info.stdout ?? '')?.[1];
}

// ---------------------------------------------------------------------------------------------
// Building and serving the apps.

// Pinning (BENCH_PIN=0 turns it off): the server's main thread runs on CPU 1 and the load
// generator's on CPU 0, so the two busiest threads do not take each other's time slices; their
// helper threads (garbage collection) stay free to run on either CPU.
const serverCpu = 1;
const loadCpu = 0;
/** Whether every pin took (reported with the results). */
const pinned = { servers: true, loadGenerator: false };

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system, all threads) the process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14 and 15)
}

async function startServer(variant, env, profileDir) {
  const port = await freePort();
  const root = join(appsRoot, variant.app ?? variant.name);
  const args = [];
  if (profileDir !== undefined) {
    args.push('--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profileDir, '--import', exitOnSignal);
  }
  args.push(join(root, 'dist', 'server', 'entry.mjs'));
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output = (output + chunk).slice(-20_000);
  });
  child.stderr.on('data', (chunk) => {
    output = (output + chunk).slice(-20_000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${variant.name} server exited (${child.exitCode}):\n${output}`);
    try {
      await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${variant.name} server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // Once it has served a request, so the helper threads it starts on first use (libuv's pool) are
  // not pinned with it.
  pinned.servers = pinMainThread(child.pid, serverCpu) && pinned.servers;
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      // SIGINT lets Node write the --cpu-prof profile on the way out.
      child.kill(profileDir === undefined ? 'SIGTERM' : 'SIGINT');
    });
  return { base, pid: child.pid, stop, output: () => output };
}

/** Signs in on the server at `base` and checks the measured request (see signInAndCheck). */
async function signIn(variant, base) {
  const send = async (method, path, headers, body) => {
    const response = await fetch(`${base}${path}`, { method, headers, body });
    return { status: response.status, text: await response.text(), setCookies: response.headers.getSetCookie() };
  };
  const { cookie, html } = await signInAndCheck(variant, send, base);
  return { cookie, html, bytes: html.length };
}

/**
 * The load generator (bench/http/load.mjs), one process for the whole run. `drive()` runs one job
 * on it and adds the server's CPU time and RSS over the measured part.
 */
function startLoadGenerator() {
  const child = spawn(process.execPath, [loadScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  pinned.loadGenerator = pinMainThread(child.pid, loadCpu);
  let buffer = '';
  let nextId = 1;
  let current; // { id, server, resolve, reject, cpuStart, rssStart, cpuEnd }
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const message = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      if (current === undefined || message.id !== current.id) continue;
      const { server } = current;
      if (message.phase === 'measuring') {
        current.cpuStart = cpuSeconds(server.pid);
        current.rssStart = rssMiB(server.pid);
      } else if (message.phase === 'measured') current.cpuEnd = cpuSeconds(server.pid);
      else if (message.phase === 'done') {
        const { resolve, cpuStart, cpuEnd, rssStart } = current;
        current = undefined;
        const serverCpuSeconds = cpuEnd - cpuStart;
        resolve({
          ...message,
          serverCpuMicrosPerRequest: message.requests > 0 ? (serverCpuSeconds / message.requests) * 1e6 : null,
          serverCpuUtilisation: serverCpuSeconds / message.durationSeconds,
          serverRssMiB: { start: rssStart, end: rssMiB(server.pid) },
        });
      }
    }
  });
  child.on('exit', (code) => current?.reject(new Error(`load generator exited (${code})`)));
  return {
    /** One run against `server`: warm-up, then the measured part. */
    drive(server, cookie, durations = settings) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        current = { id, server, resolve, reject };
        const job = {
          id,
          url: `${server.base}/`,
          headers: { cookie },
          expectBody: server.html,
          connections: settings.connections,
          warmupSeconds: durations.warmupSeconds,
          durationSeconds: durations.durationSeconds,
        };
        child.stdin.write(`${JSON.stringify(job)}\n`);
      });
    },
    stop: () => child.stdin.end(),
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) throw new Error(`Node ${process.versions.node}: run through npx/npm (Node 24).`);
  const { variants, skipped } = await runnableVariants(selectVariants(process.env.BENCH_HTTP_VARIANTS), redisPort, log);
  linkPackage();
  const startedAt = Date.now();
  if (process.env.BENCH_HTTP_SKIP_BUILD !== '1')
    await buildAll([...new Set(variants.map((variant) => variant.app ?? variant.name))], log);
  const buildSeconds = (Date.now() - startedAt) / 1000;

  const scratch = mkdtempSync(join(tmpdir(), 'sessionkit-bench-http-'));
  const profiled = process.env.BENCH_HTTP_CPU_PROF?.split(',').map((name) => name.trim()) ?? [];
  const profileDir = join(repoRoot, 'bench', '.tmp', 'profiles');
  if (profiled.length > 0) mkdirSync(profileDir, { recursive: true });
  const env = appsEnv(redisPort, redisPrefix);
  const servers = new Map();
  const load = startLoadGenerator();
  try {
    for (const variant of variants) {
      const server = await startServer(
        variant,
        { ...env, BENCH_SQLITE_FILE: join(scratch, `${variant.name}.db`) },
        profiled.includes(variant.name) ? join(profileDir, variant.name) : undefined,
      );
      const { cookie, html, bytes } = await signIn(variant, server.base);
      servers.set(variant.name, { ...server, cookie, html, bytes, cookieBytes: cookie.length });
      log(`${variant.name} serving on ${server.base} (page ${bytes} B, cookie header ${cookie.length} B)`);
    }

    // Warm every server up once (JIT tiers, heap sizing) before anything is measured.
    const initialWarmupRequests = {};
    for (const variant of variants) {
      const server = servers.get(variant.name);
      const warmup = await load.drive(server, server.cookie, {
        warmupSeconds: 0,
        durationSeconds: settings.initialWarmupSeconds,
      });
      initialWarmupRequests[variant.name] = warmup.requests;
    }

    // Rounds: every server once per round, in an order shuffled every round (a rotation would keep
    // the same neighbours forever), so every server waits about the same time between its runs. (Running bare between every other variant, to compare
    // neighbours, made bare look faster than a second copy of itself by a quarter: a server that
    // has just been busy serves faster than one that has waited, so the reference must not run
    // more often than what it is compared with.)
    const hasBare = variants.some((variant) => variant.name === 'bare');
    const samples = Object.fromEntries(variants.map((variant) => [variant.name, []]));
    const loadBefore = loadavg();
    for (let round = 0; round < settings.rounds; round++) {
      const order = shuffled(variants, round + 1);
      for (const variant of order) {
        const server = servers.get(variant.name);
        const sample = { round, ...(await load.drive(server, server.cookie)) };
        samples[variant.name].push(sample);
        log(
          `round ${round + 1}/${settings.rounds} ${variant.name.padEnd(12)} ${sample.rps.toFixed(0).padStart(6)} req/s` +
            `  p50 ${sample.latencyMs.p50} ms  p99 ${sample.latencyMs.p99} ms` +
            `  server CPU ${sample.serverCpuMicrosPerRequest?.toFixed(0)} µs/req (${(sample.serverCpuUtilisation * 100).toFixed(0)}%)` +
            (sample.non2xx + sample.errors + sample.mismatches > 0
              ? `  NON-2XX ${sample.non2xx} ERRORS ${sample.errors} WRONG BODY ${sample.mismatches}`
              : ''),
        );
      }
    }
    const loadAfter = loadavg();

    // Per variant: medians over runs. Ratios: per round against the bracketing bare runs (or, for
    // floors, the neighbour in the same group), then the median over rounds.
    const summaryOf = (list) => ({
      rps: median(list.map((sample) => sample.rps)),
      p50: median(list.map((sample) => sample.latencyMs.p50)),
      p99: median(list.map((sample) => sample.latencyMs.p99)),
      cpu: median(list.map((sample) => sample.serverCpuMicrosPerRequest)),
    });
    const medianOrNull = (values) => (values === null || values.length === 0 ? null : median(values));
    /** Per round: `name`'s requests/s over `reference`'s in the same round. */
    const roundRatios = (name, reference) =>
      samples[name] === undefined || samples[reference] === undefined
        ? null
        : samples[name].map((sample, round) => sample.rps / samples[reference][round].rps);
    const rows = variants.map((variant) => {
      const list = samples[variant.name];
      const summary = summaryOf(list);
      const ratios = variant.name === 'bare' || !hasBare ? null : roundRatios(variant.name, 'bare');
      return {
        variant: variant.name,
        label: variant.label,
        rps: Number(summary.rps.toFixed(0)),
        p50Ms: summary.p50,
        p99Ms: summary.p99,
        serverCpuMicrosPerRequest: Number(summary.cpu.toFixed(1)),
        vsBare: variant.name === 'bare' ? 1 : medianOrNull(ratios),
        vsBareRounds: ratios,
        vsIron: medianOrNull(roundRatios(variant.name, 'iron')),
        extraCpuMicrosVsBare: hasBare
          ? Number(
              median(
                list.map(
                  (sample, round) => sample.serverCpuMicrosPerRequest - samples.bare[round].serverCpuMicrosPerRequest,
                ),
              ).toFixed(1),
            )
          : null,
        non2xx: list.reduce((sum, sample) => sum + sample.non2xx, 0),
        errors: list.reduce((sum, sample) => sum + sample.errors, 0),
        wrongBodies: list.reduce((sum, sample) => sum + sample.mismatches, 0),
        cookieHeaderBytes: servers.get(variant.name).cookieBytes,
        initialWarmupRequests: initialWarmupRequests[variant.name],
        samples: list,
      };
    });
    const floors = { sqlite: 'sqlite-raw', redis: 'redis-raw' };
    for (const row of rows) {
      const floor = floors[row.variant];
      const ratios = floor === undefined ? null : roundRatios(floor, row.variant);
      row.floorVsThis = medianOrNull(ratios);
      row.floorVsThisRounds = ratios;
    }
    const machine = {
      cpus: availableParallelism(),
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: variants.some((variant) => variant.needsRedis) ? redisVersion() : undefined,
      loadAverage: { before: loadBefore.map((value) => Number(value.toFixed(2))), after: loadAfter },
      note: 'server, autocannon (separate process) and Redis share these CPUs',
      pinned,
    };
    const result = {
      suite: 'http',
      date: new Date().toISOString(),
      machine,
      settings: { ...settings, buildSeconds, pipelining: 1, host: '127.0.0.1' },
      skipped,
      rows,
    };
    console.table(
      rows.map(({ samples: _samples, label: _label, ...row }) => ({
        ...row,
        vsBare: row.vsBare?.toFixed(3),
        vsIron: row.vsIron?.toFixed(2),
        floorVsThis: row.floorVsThis?.toFixed(3),
      })),
    );
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    load.stop();
    for (const server of servers.values()) await server.stop();
    rmSync(scratch, { recursive: true, force: true });
    if (variants.some((variant) => variant.needsRedis)) await removeRedisKeys(redisPort, redisPrefix, log);
  }
}

await main();
