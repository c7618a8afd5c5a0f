// Soak / load test of the demo app (examples/demo) on Redis, bounded in time, loopback only.
//
//   npm run soak                 (builds the library first; about 4 minutes)
//
// What it does:
//  1. Starts its own redis-server on a free loopback port (never the shared 6379 one), with the
//     append-only file on and `appendfsync always`, in a temp dir: every write Redis acknowledged
//     is on disk before the reply, so a killed and restarted server comes back with it.
//  2. Builds the demo into bench/.tmp/soak-demo (not examples/demo/dist) and serves it the way
//     scripts/start-demo.mjs does (SESSIONKIT_DEMO_STORE=redis, a temp DEMO_DATA_DIR, a random
//     SESSIONKIT_SECRET) on a free port.
//  3. Signs up SOAK_USERS users and signs in until there are SOAK_SESSIONS distinct sessions.
//  4. Runs SOAK_DURATION seconds of mixed traffic with SOAK_CONCURRENCY requests in flight: page
//     and API reads, counter writes (POST /dashboard), "your devices" reads, revocations of
//     another of the user's sessions (POST /devices), and sign-ins of revoked clients. One
//     request per session at a time, so each session's counter has exactly one writer.
//  5. At SOAK_FAULT_AT seconds, kills redis-server (SIGKILL), leaves it down SOAK_DOWN seconds and
//     starts it again on the same port and data dir. While it is down, guarded routes must answer
//     503; afterwards every live session must be valid again (checked by a sweep of all of them).
//  6. Samples the server's RSS every 5 s (/proc/<pid>/status).
//  7. Checks every session at the end: live ones show exactly the number of acknowledged counter
//     writes (a lower count is a lost write), revoked ones are refused.
//
// Writes bench/results/soak.json and bench/results/soak.md; exits 1 when a must-be-zero metric is
// not zero, when memory does not level off, or when a check fails.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../../test/support/child-env.ts';
import { freePort, redisAnswers } from '../../test/support/services.ts';
import { rssMiB } from '../http/support.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const demoRoot = join(repoRoot, 'examples', 'demo');
const buildDir = join(repoRoot, 'bench', '.tmp', 'soak-demo');
const resultsDir = join(repoRoot, 'bench', 'results');
const astroBin = join(repoRoot, 'node_modules', 'astro', 'bin', 'astro.mjs');

const config = {
  sessions: Number(process.env.SOAK_SESSIONS ?? 1000),
  users: Number(process.env.SOAK_USERS ?? 100),
  durationSeconds: Number(process.env.SOAK_DURATION ?? 120),
  faultAtSeconds: Number(process.env.SOAK_FAULT_AT ?? 60),
  downSeconds: Number(process.env.SOAK_DOWN ?? 5),
  concurrency: Number(process.env.SOAK_CONCURRENCY ?? 32),
  setupConcurrency: Number(process.env.SOAK_SETUP_CONCURRENCY ?? 4),
  sampleEverySeconds: 5,
  /** Requests slower than this are aborted and counted as errors. */
  requestTimeoutMs: 15_000,
  /** The whole run is stopped after this, whatever happens. */
  watchdogSeconds: Number(process.env.SOAK_WATCHDOG ?? 600),
};
/** Relative weights of the operations in the mixed phase. */
const mix = { readPage: 40, readApi: 25, write: 20, devices: 6, revoke: 1.5, signIn: 3 };
/** Routes the demo's guard protects: these must answer 503 while Redis is down. */
const guardedPaths = new Set(['/dashboard', '/devices', '/api/me']);
/** Levelling off: the RSS trend over the second half of the run rises at most this (MiB) or this share. */
const memoryLimits = { absoluteMiB: 16, fraction: 0.05 };

const password = 'soak-password-0123456789';
const cookieName = '__Host-session';

function log(message) {
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Child processes to stop if the watchdog fires. */
const children = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// ---------------------------------------------------------------------------------------------
// The soak's own redis-server.

function redisCli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}

async function startRedis(port, dir) {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--logfile',
      join(dir, 'redis.log'),
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const deadline = Date.now() + 10_000;
  while (!redisAnswers(port)) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}); see ${dir}/redis.log`);
    if (Date.now() > deadline) throw new Error('redis-server did not start in 10 s');
    await sleep(50);
  }
  return child;
}

function killRedis(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

// ---------------------------------------------------------------------------------------------
// The demo server.

function buildDemo() {
  const linkDir = join(repoRoot, 'examples', 'node_modules');
  if (!existsSync(join(linkDir, 'sessionkit'))) {
    throw new Error('examples/node_modules/sessionkit is missing: run `npm start` once (it links the package).');
  }
  rmSync(buildDir, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [astroBin, 'build', '--root', demoRoot, '--outDir', buildDir], {
    encoding: 'utf8',
    env: childEnv(),
  });
  if (result.status !== 0) throw new Error(`building the demo failed:\n${result.stdout}\n${result.stderr}`);
}

async function startDemo(port, env) {
  const child = spawn(process.execPath, [join(buildDir, 'server', 'entry.mjs')], {
    cwd: buildDir,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const output = { text: '', lines: 0 };
  const keep = (chunk) => {
    output.lines += String(chunk).split('\n').length - 1;
    output.text = (output.text + chunk).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo exited (${child.exitCode}):\n${output.text}`);
    try {
      const response = await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the demo did not start:\n${output.text}`);
    await sleep(100);
  }
  return { child, base, output };
}

// ---------------------------------------------------------------------------------------------
// Clients: one per session, with its cookie, CSRF token and counter bookkeeping.

class Client {
  constructor(index, user) {
    this.index = index;
    this.user = user;
    this.cookies = new Map();
    this.csrf = undefined;
    this.busy = false;
    /** 'out' (never signed in or revoked), 'live', or 'uncertain' (a revocation whose outcome is unknown). */
    this.state = 'out';
    this.acked = 0;
    this.unknown = 0;
    this.generation = 0;
  }

  get sessionId() {
    return this.cookies.get(cookieName)?.split('.')[0];
  }

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  applySetCookies(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const stats = {
  requests: [],
  /** Outcomes that are errors, with the reason (kept for the report, first 50). */
  errors: [],
  errorCount: 0,
  outage: { guarded503: 0, guardedOther: [], unguardedRefusals: 0 },
  revocations: { done: 0, notEffective: 0, uncertain: 0 },
  signIns: { setup: 0, mixed: 0, failedOutsideOutage: 0 },
};

const timeline = { start: 0, downAt: null, upAt: null, recoveredAt: null };

function inOutage(started, ended) {
  if (timeline.downAt === null) return false;
  const outageEnd = timeline.recoveredAt === null ? Number.POSITIVE_INFINITY : timeline.recoveredAt + 1000;
  return ended >= timeline.downAt && started <= outageEnd;
}

function recordError(op, reason, detail) {
  stats.errorCount++;
  if (stats.errors.length < 50) stats.errors.push({ op, reason, detail, at: (Date.now() - timeline.start) / 1000 });
}

/** One HTTP request of a client; returns { response, text } or { error }. Records latency. */
async function send(base, client, op, method, path, form) {
  const headers = { cookie: client.cookieHeader() };
  let body;
  if (form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = base;
    body = new URLSearchParams(form).toString();
  }
  const started = Date.now();
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(config.requestTimeoutMs),
    });
    const text = await response.text();
    const ended = Date.now();
    stats.requests.push({ op, path, status: response.status, ms: ended - started, at: started, ended });
    return { response, text, started, ended };
  } catch (error) {
    const ended = Date.now();
    stats.requests.push({ op, path, status: 0, ms: ended - started, at: started, ended });
    return { error, started, ended };
  }
}

const csrfOf = (html) => /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
const countOf = (html) => {
  const match = /data-testid="count">(\d+)</.exec(html);
  return match === null ? undefined : Number(match[1]);
};

/**
 * Judges a response of a guarded route: ok when `expected`; 503 while Redis is down is expected;
 * anything else (5xx, network errors, a signed-out answer for a live session) is an error.
 */
function judgeGuarded(result, op, expectedStatus, expectedLocation) {
  const status = result.response?.status ?? 0;
  const location = result.response?.headers.get('location') ?? undefined;
  if (status === expectedStatus && (expectedLocation === undefined || location === expectedLocation)) return 'ok';
  const outage = inOutage(result.started, result.ended);
  if (outage && status === 503) {
    stats.outage.guarded503++;
    return 'outage';
  }
  if (outage && stats.outage.guardedOther.length < 20) {
    stats.outage.guardedOther.push({ op, status, error: result.error?.message });
  }
  recordError(op, status === 0 ? `network: ${result.error?.message}` : `status ${status}`, {
    outage,
    location,
    body: result.text?.slice(0, 200),
  });
  return 'error';
}

// ---------------------------------------------------------------------------------------------
// Operations.

async function signUp(base, client) {
  const page = await send(base, client, 'sign-up', 'GET', '/signup');
  client.applySetCookies(page.response);
  const token = csrfOf(page.text);
  const result = await send(base, client, 'sign-up', 'POST', '/signup', {
    name: `Soak ${client.user}`,
    email: `soak-${client.user}@soak.test`,
    password,
    csrf_token: token,
  });
  if (result.response?.status !== 303) throw new Error(`sign-up answered ${result.response?.status}: ${result.text}`);
  client.applySetCookies(result.response);
  return afterSignIn(base, client);
}

/** Signs a client in with the login form; false when it did not work. */
async function signIn(base, client, phase) {
  client.cookies.clear();
  const page = await send(base, client, 'sign-in', 'GET', '/login');
  if (page.response?.status !== 200) return false;
  client.applySetCookies(page.response);
  const token = csrfOf(page.text);
  const result = await send(base, client, 'sign-in', 'POST', '/login', {
    email: `soak-${client.user}@soak.test`,
    password,
    csrf_token: token ?? '',
  });
  if (result.response?.status !== 303 || result.response.headers.get('location') !== '/dashboard') {
    if (phase === 'mixed' && !inOutage(page.started, result.ended)) {
      stats.signIns.failedOutsideOutage++;
      recordError('sign-in', `status ${result.response?.status ?? 0}`, { body: result.text?.slice(0, 200) });
    } else if (phase === 'mixed') stats.outage.unguardedRefusals++;
    return false;
  }
  client.applySetCookies(result.response);
  return afterSignIn(base, client);
}

/** Loads the dashboard of a fresh session: its CSRF token, and a counter of 0. */
async function afterSignIn(base, client) {
  const page = await send(base, client, 'sign-in', 'GET', '/dashboard');
  if (page.response?.status !== 200) return false;
  client.applySetCookies(page.response);
  client.csrf = csrfOf(page.text);
  client.state = 'live';
  client.acked = 0;
  client.unknown = 0;
  client.generation++;
  return countOf(page.text) === 0;
}

async function readPage(base, client) {
  const result = await send(base, client, 'read /dashboard', 'GET', '/dashboard');
  if (judgeGuarded(result, 'read /dashboard', 200) !== 'ok') return;
  client.applySetCookies(result.response);
  const token = csrfOf(result.text);
  if (token !== undefined) client.csrf = token;
  const count = countOf(result.text);
  if (count !== undefined && count < client.acked) {
    recordError('read /dashboard', 'counter below acknowledged writes', { count, acked: client.acked });
  }
}

async function readApi(base, client) {
  const result = await send(base, client, 'read /api/me', 'GET', '/api/me');
  if (judgeGuarded(result, 'read /api/me', 200) !== 'ok') return;
  const body = JSON.parse(result.text);
  if (body.user?.email !== `soak-${client.user}@soak.test`) recordError('read /api/me', 'wrong user', body.user);
}

async function write(base, client) {
  const result = await send(base, client, 'write /dashboard', 'POST', '/dashboard', {
    action: 'increment',
    csrf_token: client.csrf,
  });
  const verdict = judgeGuarded(result, 'write /dashboard', 303, '/dashboard');
  if (verdict === 'ok') {
    client.applySetCookies(result.response);
    client.acked++;
  } else if (verdict === 'outage' || result.response === undefined || result.response.status >= 500) {
    // The outcome is unknown (the store may have applied it before the reply was lost).
    client.unknown++;
  }
}

async function devices(base, client) {
  const result = await send(base, client, 'read /devices', 'GET', '/devices');
  if (judgeGuarded(result, 'read /devices', 200) !== 'ok') return undefined;
  const token = csrfOf(result.text);
  if (token !== undefined) client.csrf = token;
  return [...result.text.matchAll(/name="session_id" value="([^"]+)"/g)].map((match) => match[1]);
}

async function revoke(base, actor, byId) {
  const listed = await devices(base, actor);
  if (listed === undefined) return;
  const candidates = listed.map((id) => byId.get(id)).filter((target) => target && !target.busy && target !== actor);
  const target = candidates[Math.floor(Math.random() * candidates.length)];
  if (target === undefined || target.state !== 'live') return;
  target.busy = true;
  try {
    const result = await send(base, actor, 'revoke', 'POST', '/devices', {
      action: 'revoke',
      session_id: target.sessionId,
      csrf_token: actor.csrf,
    });
    const verdict = judgeGuarded(result, 'revoke', 303, '/devices');
    if (verdict !== 'ok') {
      if (verdict === 'outage') {
        target.state = 'uncertain';
        stats.revocations.uncertain++;
      }
      return;
    }
    stats.revocations.done++;
    target.state = 'out';
    // The revoked session must be refused on its very next request.
    const check = await send(base, target, 'revoked /api/me', 'GET', '/api/me');
    const status = check.response?.status ?? 0;
    if (status === 503 && inOutage(check.started, check.ended)) return; // checked again at the end
    if (status !== 401) {
      stats.revocations.notEffective++;
      recordError('revoked /api/me', `revoked session answered ${check.response?.status ?? 0}`, {});
    }
  } finally {
    target.busy = false;
  }
}

// ---------------------------------------------------------------------------------------------

async function pool(items, concurrency, work) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

function pickOp() {
  const total = Object.values(mix).reduce((sum, weight) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [op, weight] of Object.entries(mix)) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return 'readPage';
}

function pickIdle(clients, predicate) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const client = clients[Math.floor(Math.random() * clients.length)];
    if (!client.busy && predicate(client)) return client;
  }
  return undefined;
}

async function sweep(base, clients, op) {
  const live = clients.filter((client) => client.state === 'live');
  const invalid = [];
  let skipped = 0;
  await pool(live, 16, async (client) => {
    while (client.busy) await sleep(5);
    if (client.state !== 'live') {
      skipped++; // revoked meanwhile by the traffic
      return;
    }
    client.busy = true;
    try {
      const result = await send(base, client, op, 'GET', '/api/me');
      if (result.response?.status !== 200) invalid.push({ client: client.index, status: result.response?.status ?? 0 });
    } finally {
      client.busy = false;
    }
  });
  return { checked: live.length - skipped, invalid };
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) throw new Error(`Node ${process.versions.node}: run it as \`npm run soak\` (Node 24).`);
  if (!existsSync(join(repoRoot, 'dist', 'index.js'))) throw new Error('Build the library first: npm run build');
  const watchdog = setTimeout(() => {
    log(`watchdog: over ${config.watchdogSeconds} s, giving up`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, config.watchdogSeconds * 1000);
  watchdog.unref();

  const scratch = mkdtempSync(join(tmpdir(), 'sessionkit-soak-'));
  const redisDir = join(scratch, 'redis');
  const dataDir = join(scratch, 'data');
  mkdirSync(redisDir);
  mkdirSync(dataDir);
  const redisPort = await freePort();
  let redis;
  let server;
  const checks = [];
  let report;
  try {
    redis = await startRedis(redisPort, redisDir);
    log(`redis-server on 127.0.0.1:${redisPort} (AOF, appendfsync always) in ${redisDir}`);
    if (process.env.SOAK_SKIP_BUILD !== '1' || !existsSync(join(buildDir, 'server', 'entry.mjs'))) {
      log('building the demo into bench/.tmp/soak-demo');
      buildDemo();
    }
    const port = await freePort();
    server = await startDemo(port, {
      SESSIONKIT_DEMO_STORE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SESSIONKIT_DEMO_REDIS_PREFIX: 'soak:',
      DEMO_DATA_DIR: dataDir,
      SESSIONKIT_SECRET: randomBytes(32).toString('base64url'),
    });
    const { base } = server;
    const pid = server.child.pid;
    log(`demo on ${base} (pid ${pid}), RSS ${rssMiB(pid).toFixed(0)} MiB`);

    // Sessions: one sign-up per user, then sign-ins until there are `sessions` of them.
    const setupStarted = Date.now();
    const clients = Array.from({ length: config.sessions }, (_, index) => new Client(index, index % config.users));
    await pool(clients.slice(0, config.users), config.setupConcurrency, async (client) => {
      if (!(await signUp(base, client))) throw new Error(`sign-up of user ${client.user} failed`);
      stats.signIns.setup++;
    });
    await pool(clients.slice(config.users), config.setupConcurrency, async (client) => {
      if (!(await signIn(base, client, 'setup'))) throw new Error(`sign-in of client ${client.index} failed`);
      stats.signIns.setup++;
    });
    const distinct = new Set(clients.map((client) => client.sessionId)).size;
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    log(`${distinct} distinct sessions for ${config.users} users in ${setupSeconds.toFixed(1)} s`);
    if (distinct !== config.sessions) throw new Error(`expected ${config.sessions} distinct sessions, got ${distinct}`);
    const setupRequests = stats.requests.length;

    // Mixed traffic.
    const byId = new Map(clients.map((client) => [client.sessionId, client]));
    const memory = [{ t: 0, rssMiB: rssMiB(pid) }];
    timeline.start = Date.now();
    const stopAt = timeline.start + config.durationSeconds * 1000;
    let signInsInFlight = 0;
    const sampler = setInterval(() => {
      if (server.child.exitCode === null) {
        memory.push({ t: Math.round((Date.now() - timeline.start) / 1000), rssMiB: rssMiB(pid) });
      }
    }, config.sampleEverySeconds * 1000);

    let postRestartSweep;
    const fault = (async () => {
      await sleep(config.faultAtSeconds * 1000);
      log('fault: killing redis-server (SIGKILL)');
      timeline.downAt = Date.now();
      await killRedis(redis);
      await sleep(config.downSeconds * 1000);
      redis = await startRedis(redisPort, redisDir);
      timeline.upAt = Date.now();
      log(`fault: redis-server restarted after ${((timeline.upAt - timeline.downAt) / 1000).toFixed(1)} s`);
      // Recovered: the first guarded request that started after the restart and succeeded.
      while (timeline.recoveredAt === null && Date.now() < stopAt) {
        const first = stats.requests.find(
          (entry) => entry.at >= timeline.upAt && guardedPaths.has(entry.path) && entry.status === 200,
        );
        if (first !== undefined) timeline.recoveredAt = first.ended;
        else await sleep(100);
      }
      log(`fault: serving again ${((timeline.recoveredAt - timeline.upAt) / 1000).toFixed(1)} s after the restart`);
      await sleep(2000);
      postRestartSweep = await sweep(base, clients, 'post-restart sweep');
      log(
        `post-restart sweep: ${postRestartSweep.checked - postRestartSweep.invalid.length}/${postRestartSweep.checked} valid`,
      );
    })();

    const worker = async () => {
      while (Date.now() < stopAt) {
        let op = pickOp();
        // Sign-ins are slow on purpose (scrypt) and rate-limited per address: a few at a time.
        if (op === 'signIn' && signInsInFlight >= 4) op = 'readPage';
        const client =
          op === 'signIn'
            ? pickIdle(clients, (candidate) => candidate.state === 'out')
            : pickIdle(clients, (candidate) => candidate.state === 'live');
        if (client === undefined) {
          await sleep(5);
          continue;
        }
        client.busy = true;
        try {
          if (op === 'readPage') await readPage(base, client);
          else if (op === 'readApi') await readApi(base, client);
          else if (op === 'write') await write(base, client);
          else if (op === 'devices') await devices(base, client);
          else if (op === 'revoke') await revoke(base, client, byId);
          else if (op === 'signIn') {
            signInsInFlight++;
            try {
              if (await signIn(base, client, 'mixed')) {
                stats.signIns.mixed++;
                byId.set(client.sessionId, client);
              }
            } finally {
              signInsInFlight--;
            }
          }
        } finally {
          client.busy = false;
        }
      }
    };
    await Promise.all(Array.from({ length: config.concurrency }, worker));
    await fault;
    clearInterval(sampler);
    memory.push({ t: Math.round((Date.now() - timeline.start) / 1000), rssMiB: rssMiB(pid) });
    const mixedSeconds = (Date.now() - timeline.start) / 1000;
    log(`mixed traffic done: ${stats.requests.length - setupRequests} requests in ${mixedSeconds.toFixed(0)} s`);

    // Final checks: lost writes, revoked sessions refused, the server still up.
    let lostWrites = 0;
    let phantomWrites = 0;
    let liveChecked = 0;
    let revokedAccepted = 0;
    const finalInvalid = [];
    await pool(clients, 16, async (client) => {
      if (client.state === 'out' && client.sessionId !== undefined) {
        const result = await send(base, client, 'final check', 'GET', '/api/me');
        if (result.response?.status !== 401) revokedAccepted++;
        return;
      }
      if (client.state === 'out') return;
      const result = await send(base, client, 'final check', 'GET', '/dashboard');
      if (result.response?.status !== 200) {
        if (client.state === 'uncertain' && result.response?.status === 303) return; // the revocation did happen
        finalInvalid.push({ client: client.index, status: result.response?.status ?? 0 });
        return;
      }
      liveChecked++;
      const count = countOf(result.text) ?? -1;
      if (count < client.acked) lostWrites += client.acked - count;
      if (count > client.acked + client.unknown) phantomWrites += count - client.acked - client.unknown;
    });
    const serverAlive = server.child.exitCode === null;
    const crashLines = (server.output.text.match(/uncaught|unhandled|fatal|segmentation/gi) ?? []).length;
    const redisKeys = Number(redisCli(redisPort, 'dbsize'));

    // Latency over the mixed phase (outside the outage, and all).
    const mixed = stats.requests.filter((entry) => entry.at >= timeline.start);
    const ok = mixed.filter((entry) => entry.status > 0 && entry.status < 500);
    const steady = ok.filter((entry) => !inOutage(entry.at, entry.ended));
    const sortedMs = (list) => list.map((entry) => entry.ms).sort((a, b) => a - b);
    const byOp = {};
    for (const entry of mixed) {
      byOp[entry.op] ??= { count: 0, statuses: {}, ms: [] };
      byOp[entry.op].count++;
      byOp[entry.op].statuses[entry.status] = (byOp[entry.op].statuses[entry.status] ?? 0) + 1;
      byOp[entry.op].ms.push(entry.ms);
    }
    const operations = Object.entries(byOp).map(([op, entry]) => {
      const sorted = entry.ms.sort((a, b) => a - b);
      return {
        op,
        count: entry.count,
        statuses: entry.statuses,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    });

    // Memory: RSS must level off. Single samples jump by tens of MiB (each sign-in's scrypt
    // takes 32 MiB for a moment), so the trend is a least-squares line through the samples of
    // the second half of the run: its rise over that half must stay small.
    const half = memory.filter((sample) => sample.t >= config.durationSeconds / 2);
    const meanOf = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const meanT = meanOf(half.map((sample) => sample.t));
    const meanRss = meanOf(half.map((sample) => sample.rssMiB));
    const slope =
      half.reduce((sum, sample) => sum + (sample.t - meanT) * (sample.rssMiB - meanRss), 0) /
      half.reduce((sum, sample) => sum + (sample.t - meanT) ** 2, 0); // MiB per second
    const secondHalfGrowth = slope * (config.durationSeconds / 2);
    const growthLimit = Math.max(memoryLimits.absoluteMiB, memoryLimits.fraction * meanRss);
    const memoryLevelled = secondHalfGrowth <= growthLimit;

    const outageSeconds = timeline.upAt && timeline.downAt ? (timeline.upAt - timeline.downAt) / 1000 : null;
    const recoverySeconds =
      timeline.recoveredAt && timeline.upAt ? (timeline.recoveredAt - timeline.upAt) / 1000 : null;
    checks.push(
      { name: 'errors', measured: String(stats.errorCount), ok: stats.errorCount === 0 },
      {
        name: 'lost writes',
        measured: `${lostWrites} (of ${clients.reduce((sum, client) => sum + client.acked, 0)} acknowledged)`,
        ok: lostWrites === 0,
      },
      {
        name: 'p99 (mixed traffic, outside the outage)',
        measured: `${percentile(sortedMs(steady), 99)} ms (p50 ${percentile(sortedMs(steady), 50)} ms)`,
        ok: true,
      },
      {
        name: 'memory levels off',
        measured: `RSS ${memory[0].rssMiB.toFixed(0)} MiB at the start, ${Math.min(...half.map((sample) => sample.rssMiB)).toFixed(0)}-${Math.max(...half.map((sample) => sample.rssMiB)).toFixed(0)} MiB over the second half; trend over the second half ${secondHalfGrowth >= 0 ? '+' : ''}${secondHalfGrowth.toFixed(1)} MiB (limit ${growthLimit.toFixed(0)} MiB: max(${memoryLimits.absoluteMiB} MiB, ${memoryLimits.fraction * 100} %))`,
        ok: memoryLevelled,
      },
      {
        name: 'guarded routes answer 503 while Redis is down',
        measured: `${stats.outage.guarded503} × 503, ${stats.outage.guardedOther.length} other answers, down ${outageSeconds?.toFixed(1)} s`,
        ok: stats.outage.guarded503 > 0 && stats.outage.guardedOther.length === 0,
      },
      {
        name: 'server process alive, no crash',
        measured: serverAlive ? `alive; ${crashLines} crash-like log lines` : 'EXITED',
        ok: serverAlive && crashLines === 0,
      },
      {
        name: 'every live session valid again after the restart',
        measured: postRestartSweep
          ? `${postRestartSweep.checked - postRestartSweep.invalid.length}/${postRestartSweep.checked} valid 2 s after recovery (recovered ${recoverySeconds?.toFixed(1)} s after the restart); at the end ${liveChecked}/${liveChecked + finalInvalid.length}`
          : 'no sweep',
        ok: postRestartSweep !== undefined && postRestartSweep.invalid.length === 0 && finalInvalid.length === 0,
      },
      {
        name: 'revoked sessions refused',
        measured: `${stats.revocations.done} revoked, ${stats.revocations.notEffective} accepted right after, ${revokedAccepted} accepted at the end`,
        ok: stats.revocations.notEffective === 0 && revokedAccepted === 0,
      },
    );
    report = {
      date: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        cpu: cpus()[0]?.model?.trim(),
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        redis: redisCli(redisPort, 'info', 'server').match(/redis_version:(\S+)/)?.[1],
        loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
      },
      config: { ...config, mix },
      setup: { seconds: setupSeconds, distinctSessions: distinct, users: config.users, requests: setupRequests },
      mixed: {
        seconds: mixedSeconds,
        requests: mixed.length,
        requestsPerSecond: mixed.length / mixedSeconds,
        p50Ms: percentile(sortedMs(steady), 50),
        p99Ms: percentile(sortedMs(steady), 99),
        p99IncludingOutageMs: percentile(sortedMs(ok), 99),
        operations,
      },
      errors: { count: stats.errorCount, first: stats.errors },
      writes: {
        acknowledged: clients.reduce((sum, client) => sum + client.acked, 0),
        unknownOutcome: clients.reduce((sum, client) => sum + client.unknown, 0),
        lost: lostWrites,
        phantom: phantomWrites,
        sessionsChecked: liveChecked,
      },
      revocations: { ...stats.revocations, acceptedAtEnd: revokedAccepted },
      signIns: stats.signIns,
      fault: {
        kind: 'SIGKILL of redis-server, restart on the same port and append-only file',
        downAtSeconds: timeline.downAt ? (timeline.downAt - timeline.start) / 1000 : null,
        outageSeconds,
        recoverySeconds,
        guarded503: stats.outage.guarded503,
        guardedOther: stats.outage.guardedOther,
        unguardedRefusals: stats.outage.unguardedRefusals,
        postRestartSweep,
        finalInvalid,
      },
      memory: {
        samples: memory,
        secondHalfTrendMiB: secondHalfGrowth,
        secondHalfSlopeMiBPerMinute: slope * 60,
        limitMiB: growthLimit,
        levelled: memoryLevelled,
      },
      server: { alive: serverAlive, crashLikeLogLines: crashLines, logLines: server.output.lines },
      redisKeysAtEnd: redisKeys,
      checks,
    };
    report.summary =
      `${distinct} sessions of ${config.users} users, ${mixedSeconds.toFixed(0)} s of mixed traffic ` +
      `(${report.mixed.requestsPerSecond.toFixed(0)} req/s, ${config.concurrency} in flight), Redis killed at ` +
      `${report.fault.downAtSeconds?.toFixed(0)} s for ${outageSeconds?.toFixed(1)} s. ` +
      `${
        checks.every((check) => check.ok)
          ? 'All checks passed.'
          : `FAILED: ${checks
              .filter((check) => !check.ok)
              .map((check) => check.name)
              .join(', ')}.`
      }`;
  } finally {
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve));
    }
    if (redis !== undefined) await killRedis(redis);
    rmSync(scratch, { recursive: true, force: true });
  }
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'soak.md'), markdown(report));
  for (const check of checks) log(`${check.ok ? 'ok    ' : 'FAILED'} ${check.name}: ${check.measured}`);
  log(report.summary);
  const report2 = spawnSync(process.execPath, [join(repoRoot, 'bench', 'report.mjs')], { stdio: 'ignore' });
  if (report2.status !== 0) log('bench/report.mjs failed (summary.md not refreshed)');
  process.exitCode = checks.every((check) => check.ok) ? 0 : 1;
}

function markdown(report) {
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const lines = [
    '# Soak test: the demo on Redis',
    '',
    `${report.date.slice(0, 16).replace('T', ' ')} UTC, ${report.machine.cpus} vCPUs (${report.machine.cpu}), Node ${report.machine.node}, Redis ${report.machine.redis}. Generated by \`npm run soak\` (bench/soak/soak.mjs).`,
    '',
    report.summary,
    '',
    row(['check', 'measured', 'result']),
    row(['---', '---', '---']),
    ...report.checks.map((check) => row([check.name, check.measured, check.ok ? 'ok' : '**FAILED**'])),
    '',
    '## Operations (mixed phase)',
    '',
    row(['operation', 'requests', 'statuses', 'p50', 'p99']),
    row(['---', '---:', '---', '---:', '---:']),
    ...report.mixed.operations.map((op) =>
      row([
        op.op,
        String(op.count),
        Object.entries(op.statuses)
          .map(([status, count]) => `${status === '0' ? 'network error' : status}: ${count}`)
          .join(', '),
        `${op.p50Ms} ms`,
        `${op.p99Ms} ms`,
      ]),
    ),
    '',
    `Setup: ${report.setup.distinctSessions} sessions (${report.setup.users} sign-ups, then sign-ins; scrypt password hashing) in ${report.setup.seconds.toFixed(0)} s. Writes: ${report.writes.acknowledged} acknowledged, ${report.writes.unknownOutcome} with an unknown outcome (503 or no answer during the outage), ${report.writes.lost} lost, ${report.writes.phantom} applied beyond acknowledged + unknown. Revocations: ${report.revocations.done} (plus ${report.revocations.uncertain} during the outage). Sign-ins during the run: ${report.signIns.mixed}.`,
    '',
    '## The Redis restart',
    '',
    `${report.fault.kind}. Redis runs with \`appendonly yes\` and \`appendfsync always\`: each write is on disk before Redis acknowledges it, so the restarted server holds every session and every acknowledged write (without persistence a restart empties Redis and every session is then rejected as revoked: data loss in Redis, which no session library can undo). Down ${report.fault.outageSeconds?.toFixed(1)} s; the demo served guarded routes again ${report.fault.recoverySeconds?.toFixed(1)} s after the restart (ioredis reconnects with back-off). During the gap: ${report.fault.guarded503} guarded requests answered 503, ${report.fault.guardedOther.length} answered something else${report.fault.guardedOther.length > 0 ? ` (${report.fault.guardedOther.map((entry) => `${entry.op} ${entry.status}`).join(', ')})` : ''}; ${report.fault.unguardedRefusals} sign-ins were refused (they are retried later).`,
    '',
    '## Memory (server RSS, every 5 s)',
    '',
    row(['t (s)', ...report.memory.samples.map((sample) => String(sample.t))]),
    row(['---', ...report.memory.samples.map(() => '---:')]),
    row(['RSS (MiB)', ...report.memory.samples.map((sample) => sample.rssMiB.toFixed(0))]),
    '',
  ];
  if (report.errors.first.length > 0) {
    lines.push('## First errors', '', '```json', JSON.stringify(report.errors.first.slice(0, 10), null, 2), '```', '');
  }
  return `${lines.join('\n')}\n`;
}

await main();
