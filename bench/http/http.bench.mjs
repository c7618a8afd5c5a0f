// HTTP suite: the same one-page Astro 7 app (output server, @astrojs/node standalone) in seven
// variants (and a second server of the bare one), each built once and served by its own process
// on 127.0.0.1, driven by autocannon (a separate process, bench/http/load.mjs) with signed-in
// users. Each server is warmed up once, then run once per round over many short rounds, in an order
// shuffled every round; ratios are taken per round, and their medians (with the middle half of the
// rounds) reported.
//
//   npx node bench/http/http.bench.mjs     (run by bench/run.mjs; the library must be built)
//
// Traffic (bench/support/traffic.mjs), two models, each compared only with itself:
//   10,000 users (the headline): BENCH_HTTP_USERS users are signed in on every server over HTTP
//     before anything is measured (POST /login, 32 at a time; each variant's users are its own,
//     since the cookie formats differ). Every request carries the cookie of the user drawn next by
//     the seeded Zipf(1.0) sequence; a response with Set-Cookie replaces that user's cookie (there
//     should be none: the count is reported).
//   one cookie (the secondary row): the first user's cookie on every request.
// In a round, each server runs both models back to back (users first in even rounds, one cookie
// first in odd ones): a warm-up, the first model's measured run, a short warm-up with the second
// model's traffic, and its measured run.
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
// variant whose page answers with a Set-Cookie or without the user id, and every measured response
// must be exactly the signed-in page (autocannon's verifyBody in bench/http/load.mjs; anything else
// counts as failed).
//
// Defaults (bench/run.mjs runs the same 8 rounds): 8 rounds x 8 servers x (1 s warm-up + 2 s
// measured + 0.5 s warm-up + 2 s measured) = 352 s of load (about 30 s more in starting 128
// autocannon runs), 6 s of initial warm-up per server (48 s), signing in 10,000 users on each of
// the six servers with sessions (4-5 s each on 2 CPUs) and the builds: about 8 minutes in all
// (the one-cookie-only suite took about 5.5).
//
// Environment: BENCH_OUT (JSON file), BENCH_HTTP_ROUNDS (8), BENCH_HTTP_DURATION (2 s per measured
// run), BENCH_HTTP_WARMUP (1 s before a server's first run of a round),
// BENCH_HTTP_SECOND_WARMUP (0.5 s before its second traffic model's run),
// BENCH_HTTP_INITIAL_WARMUP (6 s per server, once, half per traffic model),
// BENCH_HTTP_CONNECTIONS (50), BENCH_HTTP_USERS (10,000), BENCH_HTTP_VARIANTS (comma list),
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
import { median, quantile } from '../support/ratios.mjs';
import { trafficSettings } from '../support/traffic.mjs';
import {
  appsEnv,
  appsRoot,
  buildAll,
  linkPackage,
  removeRedisKeys,
  runnableVariants,
  selectVariants,
  signInAndCheck,
  signIn as signInOnce,
} from './apps.mjs';
import { pinMainThread, rssMiB, shuffled } from './support.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const loadScript = fileURLToPath(new URL('./load.mjs', import.meta.url));
const exitOnSignal = pathToFileURL(fileURLToPath(new URL('./exit-on-signal.mjs', import.meta.url))).href;

const settings = {
  rounds: Number(process.env.BENCH_HTTP_ROUNDS ?? 8),
  durationSeconds: Number(process.env.BENCH_HTTP_DURATION ?? 2),
  warmupSeconds: Number(process.env.BENCH_HTTP_WARMUP ?? 1),
  secondWarmupSeconds: Number(process.env.BENCH_HTTP_SECOND_WARMUP ?? 0.5),
  initialWarmupSeconds: Number(process.env.BENCH_HTTP_INITIAL_WARMUP ?? 6),
  connections: Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50),
  users: Number(process.env.BENCH_HTTP_USERS ?? trafficSettings.users),
  zipfExponent: trafficSettings.zipfExponent,
  signInConcurrency: 32,
};

/** The two traffic models: the key the load generator takes, and the label of the rows. */
const traffics = [
  { key: 'users', label: `${settings.users} users` },
  { key: 'one', label: 'one cookie' },
];

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

/**
 * Signs in `settings.users` users on the server at `base` over HTTP: the first one checked (the
 * measured request is the signed-in, unchanged-session page; see signInAndCheck), the others
 * `settings.signInConcurrency` at a time. Returns every user's Cookie header and the page's HTML.
 */
async function signInUsers(variant, base) {
  const send = async (method, path, headers, body) => {
    const response = await fetch(`${base}${path}`, { method, headers, body });
    return { status: response.status, text: await response.text(), setCookies: response.headers.getSetCookie() };
  };
  const { cookie, html } = await signInAndCheck(variant, send, base);
  const cookies = [cookie];
  let next = 1;
  const worker = async () => {
    while (next < settings.users) {
      const user = next++;
      cookies[user] = await signInOnce(variant, send, base);
    }
  };
  await Promise.all(Array.from({ length: settings.signInConcurrency }, worker));
  return { cookies, html, bytes: html.length };
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
    /** One run against `server` with `traffic` ('users' or 'one'): warm-up, then the measured part. */
    drive(server, traffic, durations) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        current = { id, server, resolve, reject };
        const job = {
          id,
          url: `${server.base}/`,
          cookiesFile: server.cookiesFile,
          traffic,
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
    const signInStartedAt = Date.now();
    for (const variant of variants) {
      const server = await startServer(
        variant,
        { ...env, BENCH_SQLITE_FILE: join(scratch, `${variant.name}.db`) },
        profiled.includes(variant.name) ? join(profileDir, variant.name) : undefined,
      );
      const started = Date.now();
      const { cookies, html, bytes } = await signInUsers(variant, server.base);
      const signInSeconds = (Date.now() - started) / 1000;
      // The users' cookies go to the load generator as a file (megabytes for 10,000 users).
      const cookiesFile = join(scratch, `${variant.name}-cookies.json`);
      writeFileSync(cookiesFile, JSON.stringify(cookies));
      servers.set(variant.name, { ...server, cookiesFile, html, bytes, cookieBytes: cookies[0].length, signInSeconds });
      log(
        `${variant.name} serving on ${server.base} (page ${bytes} B, cookie header ${cookies[0].length} B);` +
          ` ${cookies.length} users signed in in ${signInSeconds.toFixed(1)} s` +
          (variant.sessionless ? ' (no session library: random cookies of the same size, nothing posted)' : ''),
      );
    }
    const signInSeconds = (Date.now() - signInStartedAt) / 1000;
    log(`servers started and ${settings.users} users signed in on each in ${signInSeconds.toFixed(1)} s`);

    // Warm every server up once (JIT tiers, heap sizing) with both traffic models before anything
    // is measured.
    const initialWarmupRequests = Object.fromEntries(traffics.map((traffic) => [traffic.key, {}]));
    const initialSetCookies = Object.fromEntries(traffics.map((traffic) => [traffic.key, {}]));
    for (const variant of variants) {
      const server = servers.get(variant.name);
      for (const traffic of traffics) {
        const warmup = await load.drive(server, traffic.key, {
          warmupSeconds: 0,
          durationSeconds: settings.initialWarmupSeconds / traffics.length,
        });
        initialWarmupRequests[traffic.key][variant.name] = warmup.requests;
        initialSetCookies[traffic.key][variant.name] = warmup.setCookieResponses;
      }
    }

    // Rounds: every server once per round, in an order shuffled every round (a rotation would keep
    // the same neighbours forever), so every server waits about the same time between its runs. (Running bare between every other variant, to compare
    // neighbours, made bare look faster than a second copy of itself by a quarter: a server that
    // has just been busy serves faster than one that has waited, so the reference must not run
    // more often than what it is compared with.) Each server's turn runs both traffic models back
    // to back, in an order that alternates by round; the second one gets a shorter warm-up, as
    // the server is busy already. A model's ratios only compare runs of that model.
    const hasBare = variants.some((variant) => variant.name === 'bare');
    const samples = Object.fromEntries(
      traffics.map((traffic) => [traffic.key, Object.fromEntries(variants.map((variant) => [variant.name, []]))]),
    );
    const loadBefore = loadavg();
    const roundsStartedAt = Date.now();
    for (let round = 0; round < settings.rounds; round++) {
      const order = shuffled(variants, round + 1);
      const trafficOrder = round % 2 === 0 ? traffics : [...traffics].reverse();
      for (const variant of order) {
        const server = servers.get(variant.name);
        for (const [position, traffic] of trafficOrder.entries()) {
          const durations = {
            warmupSeconds: position === 0 ? settings.warmupSeconds : settings.secondWarmupSeconds,
            durationSeconds: settings.durationSeconds,
          };
          const sample = { round, ...(await load.drive(server, traffic.key, durations)) };
          samples[traffic.key][variant.name].push(sample);
          log(
            `round ${round + 1}/${settings.rounds} ${variant.name.padEnd(12)} ${traffic.label.padEnd(12)}` +
              ` ${sample.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.latencyMs.p50} ms  p99 ${sample.latencyMs.p99} ms` +
              `  server CPU ${sample.serverCpuMicrosPerRequest?.toFixed(0)} µs/req (${(sample.serverCpuUtilisation * 100).toFixed(0)}%)` +
              (sample.non2xx + sample.errors + sample.mismatches > 0
                ? `  NON-2XX ${sample.non2xx} ERRORS ${sample.errors} WRONG BODY ${sample.mismatches}`
                : '') +
              (sample.setCookieResponses + sample.warmupSetCookieResponses > 0
                ? `  SET-COOKIE ${sample.setCookieResponses + sample.warmupSetCookieResponses}`
                : ''),
          );
        }
      }
    }
    const roundsSeconds = (Date.now() - roundsStartedAt) / 1000;
    const loadAfter = loadavg();

    const medianOrNull = (values) => (values === null || values.length === 0 ? null : median(values));
    const middleHalfOrNull = (values) =>
      values === null || values.length === 0 ? null : [quantile(values, 0.25), quantile(values, 0.75)];
    const sum = (list, field) => list.reduce((total, sample) => total + sample[field], 0);

    /**
     * The rows of one traffic model: per variant, medians over its runs, and ratios taken per
     * round against the same round's run of bare (or, for floors, of the sessionkit mode; for
     * vsIron, of iron-session) with that model's traffic, then the median and middle half.
     */
    const rowsOf = (traffic) => {
      const model = samples[traffic.key];
      /** Per round: `name`'s requests/s over `reference`'s in the same round. */
      const roundRatios = (name, reference) =>
        model[name] === undefined || model[reference] === undefined
          ? null
          : model[name].map((sample, round) => sample.rps / model[reference][round].rps);
      const floors = { sqlite: 'sqlite-raw', redis: 'redis-raw' };
      return variants.map((variant) => {
        const list = model[variant.name];
        const ratios = variant.name === 'bare' || !hasBare ? null : roundRatios(variant.name, 'bare');
        const floor = floors[variant.name];
        const floorRatios = floor === undefined ? null : roundRatios(floor, variant.name);
        return {
          traffic: traffic.label,
          variant: variant.name,
          label: variant.label,
          rps: Number(median(list.map((sample) => sample.rps)).toFixed(0)),
          p50Ms: median(list.map((sample) => sample.latencyMs.p50)),
          p99Ms: median(list.map((sample) => sample.latencyMs.p99)),
          serverCpuMicrosPerRequest: Number(median(list.map((sample) => sample.serverCpuMicrosPerRequest)).toFixed(1)),
          vsBare: variant.name === 'bare' ? 1 : medianOrNull(ratios),
          vsBareMiddleHalf: middleHalfOrNull(ratios),
          vsBareRounds: ratios,
          vsIron: medianOrNull(roundRatios(variant.name, 'iron')),
          extraCpuMicrosVsBare: hasBare
            ? Number(
                median(
                  list.map(
                    (sample, round) => sample.serverCpuMicrosPerRequest - model.bare[round].serverCpuMicrosPerRequest,
                  ),
                ).toFixed(1),
              )
            : null,
          floorVsThis: medianOrNull(floorRatios),
          floorVsThisMiddleHalf: middleHalfOrNull(floorRatios),
          floorVsThisRounds: floorRatios,
          non2xx: sum(list, 'non2xx'),
          errors: sum(list, 'errors'),
          wrongBodies: sum(list, 'mismatches'),
          // Responses with Set-Cookie over every run of this model (warm-ups included): 0 expected.
          setCookieResponses:
            sum(list, 'setCookieResponses') +
            sum(list, 'warmupSetCookieResponses') +
            initialSetCookies[traffic.key][variant.name],
          users: list[0]?.users,
          cookieHeaderBytes: servers.get(variant.name).cookieBytes,
          signInSeconds: Number(servers.get(variant.name).signInSeconds.toFixed(1)),
          initialWarmupRequests: initialWarmupRequests[traffic.key][variant.name],
          samples: list,
        };
      });
    };
    const rows = traffics.flatMap(rowsOf);
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
      settings: {
        ...settings,
        traffics: traffics.map((traffic) => traffic.label),
        buildSeconds,
        signInSeconds: Number(signInSeconds.toFixed(1)),
        roundsSeconds: Number(roundsSeconds.toFixed(1)),
        pipelining: 1,
        host: '127.0.0.1',
      },
      skipped,
      rows,
    };
    const fixedOrUndefined = (value, digits) =>
      value === null || value === undefined ? undefined : value.toFixed(digits);
    console.table(
      rows.map((row) => ({
        traffic: row.traffic,
        variant: row.variant,
        rps: row.rps,
        p50Ms: row.p50Ms,
        p99Ms: row.p99Ms,
        'cpu µs': row.serverCpuMicrosPerRequest,
        vsBare: fixedOrUndefined(row.vsBare, 3),
        'vsBare p25–p75': row.vsBareMiddleHalf?.map((value) => value.toFixed(3)).join('–'),
        'extra cpu µs': row.extraCpuMicrosVsBare,
        vsIron: fixedOrUndefined(row.vsIron, 2),
        floorVsThis: fixedOrUndefined(row.floorVsThis, 3),
        failed: row.non2xx + row.errors + row.wrongBodies,
        setCookie: row.setCookieResponses,
        'sign-in s': row.signInSeconds,
      })),
    );
    log(
      `build ${buildSeconds.toFixed(0)} s, start + sign-in ${signInSeconds.toFixed(0)} s, rounds ${roundsSeconds.toFixed(0)} s,` +
        ` total ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
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
