// What the SQL stores' fault handling costs, and what it buys (docs/stores.md, "Outages").
//
//   npm run build && node bench/stores/faults.bench.mjs      (Node 24; Postgres on 127.0.0.1:5432)
//
// 1. SQLite, the cost of each way to keep the event loop free while another process holds the
//    write lock: the store's statements on the main thread (busy timeout 0, retried on timers)
//    against the same statements in a worker thread (a message round trip per call). Per call:
//    wall time with 64 in flight, and main-thread busy time (event-loop utilisation).
// 2. SQLite, the longest event-loop stall while another process holds the write lock for 1 s and
//    the app keeps reading and writing: the old setting (busy timeout 5000 ms, waited inside the
//    call) against the store (busy timeout 0, retried on timers, bound 600 ms).
// 3. Postgres, the cost of a bounded write: the old store's one autocommit UPDATE against the
//    store's transaction (BEGIN with server-side timeouts, UPDATE, COMMIT checked by the server).
//
// Interleaved rounds (BENCH_ROUNDS, default 5), medians, and the ratio within each round.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { postgresStore } from '../../dist/stores/postgres.js';
import { sqliteStore } from '../../dist/stores/sqlite.js';
import { holdWriteLock } from '../../test/support/sqlite-lock.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const inFlight = 64;
const directory = mkdtempSync(join(tmpdir(), 'sessionkit-faults-bench-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const row = (id) => ({
  id,
  secretHash: 'h'.repeat(43),
  userId: 'user',
  createdAt: 1,
  renewedAt: 1,
  expiresAt: 4e9,
  data: { userId: 'user', theme: 'dark', cart: [1, 2, 3], visits: 1 },
  flash: {},
});
const patch = (visits) => ({
  setData: { visits },
  unsetData: [],
  setFlash: {},
  unsetFlash: [],
  renewedAt: 2,
  expiresAt: 4e9,
});

/** Runs `call(index)` `total` times, `inFlight` at once; returns µs per call and main-thread busy µs per call. */
async function perCall(total, call) {
  const before = performance.eventLoopUtilization();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await call(next++);
    }),
  );
  const elapsedMs = performance.now() - started;
  const busy = performance.eventLoopUtilization(before);
  return { wallUs: (elapsedMs * 1000) / total, mainBusyUs: (busy.active * 1000) / total };
}

// A worker thread owning its own connection to the same file: get and patch by message.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file, { timeout: 0 });
db.exec('PRAGMA synchronous = NORMAL'); // as the store's own connection
const select = db.prepare('SELECT id, secret_hash, user_id, created_at, renewed_at, expires_at, data, flash, user_agent, ip FROM sessionkit_sessions WHERE id = ?');
const update = db.prepare("UPDATE sessionkit_sessions SET data = json_set(data, '$.visits', json(?)), renewed_at = ?, expires_at = ? WHERE id = ?");
parentPort.on('message', ({ call, op, id, visits }) => {
  const result = op === 'get' ? select.get(id) : Number(update.run(String(visits), 2, 4e9, id).changes) > 0;
  parentPort.postMessage({ call, result });
});`;

function workerClient(file) {
  const worker = new Worker(workerSource, { eval: true, workerData: { file } });
  const pending = new Map();
  let calls = 0;
  worker.on('message', ({ call, result }) => {
    pending.get(call)(result);
    pending.delete(call);
  });
  const send = (message) =>
    new Promise((resolve) => {
      const call = calls++;
      pending.set(call, resolve);
      worker.postMessage({ ...message, call });
    });
  return {
    get: async (id) => {
      const found = await send({ op: 'get', id });
      return found === undefined
        ? undefined
        : { ...found, data: JSON.parse(found.data), flash: JSON.parse(found.flash) };
    },
    patch: (id, visits) => send({ op: 'patch', id, visits }),
    close: () => worker.terminate(),
  };
}

async function sqliteCost() {
  const file = join(directory, 'cost.db');
  const store = sqliteStore({ database: file });
  const ids = Array.from({ length: 1000 }, (_, index) => `s${index}`);
  for (const id of ids) await store.create(row(id), { deadline: 4e9 });
  const worker = workerClient(file);
  const results = {
    'get, main thread': [],
    'get, worker thread': [],
    'patch, main thread': [],
    'patch, worker thread': [],
  };
  const busy = {
    'get, main thread': [],
    'get, worker thread': [],
    'patch, main thread': [],
    'patch, worker thread': [],
  };
  const cases = {
    'get, main thread': (index) => store.get(ids[index % ids.length]),
    'get, worker thread': (index) => worker.get(ids[index % ids.length]),
    'patch, main thread': (index) => store.patch(ids[index % ids.length], patch(index)),
    'patch, worker thread': (index) => worker.patch(ids[index % ids.length], index),
  };
  for (const run of Object.values(cases)) await perCall(2000, run); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const { wallUs, mainBusyUs } = await perCall(20_000, run);
      results[name].push(wallUs);
      busy[name].push(mainBusyUs);
    }
  }
  await worker.close();
  await store.dispose();
  return Object.keys(results).map((name) => ({
    case: name,
    'µs per call (64 in flight)': median(results[name]).toFixed(2),
    'main-thread busy µs per call': median(busy[name]).toFixed(2),
  }));
}

// The longest single SQLite call on the main thread: what the store itself blocks the event loop
// for. Wall time, and the thread's CPU time (which excludes time the OS ran something else: on a
// shared machine, a long wall time with little CPU is the scheduler, not SQLite).
let longestCallMs = 0;
let longestCallCpuMs = 0;
const cpuMs = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};
for (const method of ['get', 'run', 'all']) {
  const original = StatementSync.prototype[method];
  StatementSync.prototype[method] = function timed(...args) {
    const started = performance.now();
    const startedCpu = cpuMs();
    try {
      return original.apply(this, args);
    } finally {
      longestCallMs = Math.max(longestCallMs, performance.now() - started);
      longestCallCpuMs = Math.max(longestCallCpuMs, cpuMs() - startedCpu);
    }
  };
}

let stallRuns = 0;
async function sqliteStall(kind) {
  const file = join(directory, `stall-${kind}-${stallRuns++}.db`);
  const setup = sqliteStore({ database: file });
  for (let index = 0; index < 10; index++) await setup.create(row(`s${index}`), { deadline: 4e9 });
  await setup.dispose();
  let store;
  if (kind === 'store') {
    store = sqliteStore({ database: file, timeoutMs: 600 });
  } else {
    const database = new DatabaseSync(file, { timeout: 5000 });
    store = sqliteStore({ database, timeoutMs: 600 });
  }
  const lock = await holdWriteLock(file, 1000);
  const stalls = monitorEventLoopDelay({ resolution: 1 });
  stalls.enable();
  longestCallMs = 0;
  longestCallCpuMs = 0;
  let reads = 0;
  let writeFailures = 0;
  const until = performance.now() + 1200;
  const writer = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 20)); // the histogram has its first sample
    for (let index = 0; index < 3; index++) await store.patch('s1', patch(index)).catch(() => writeFailures++);
  })();
  while (performance.now() < until) {
    await store.get('s2');
    reads++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await writer;
  stalls.disable();
  await lock.release();
  await store.dispose();
  return {
    longestMs: stalls.max / 1e6,
    p99Ms: stalls.percentile(99) / 1e6,
    longestCallMs,
    longestCallCpuMs,
    reads,
    writeFailures,
  };
}

/** {@link sqliteStall} in interleaved rounds; medians. */
async function sqliteStalls() {
  const kinds = ['old', 'store'];
  const seen = { old: [], store: [] };
  for (let round = 0; round < rounds; round++) for (const kind of kinds) seen[kind].push(await sqliteStall(kind));
  return kinds.map((kind) => ({
    case: kind === 'store' ? 'store: busy timeout 0, retried on timers' : 'old: busy timeout 5000 ms inside the call',
    'longest stall ms (median; max)': `${median(seen[kind].map((r) => r.longestMs)).toFixed(1)}; ${Math.max(...seen[kind].map((r) => r.longestMs)).toFixed(1)}`,
    'p99 stall ms': median(seen[kind].map((r) => r.p99Ms)).toFixed(1),
    'longest SQLite call ms (median; max)': `${median(seen[kind].map((r) => r.longestCallMs)).toFixed(2)}; ${Math.max(...seen[kind].map((r) => r.longestCallMs)).toFixed(2)}`,
    'most CPU in one SQLite call ms (median; max)': `${median(seen[kind].map((r) => r.longestCallCpuMs)).toFixed(2)}; ${Math.max(...seen[kind].map((r) => r.longestCallCpuMs)).toFixed(2)}`,
    'reads served in 1.2 s': median(seen[kind].map((r) => r.reads)),
    'writes failed (503)': median(seen[kind].map((r) => r.writeFailures)),
  }));
}

async function postgresCost() {
  const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 8 });
  const table = `sessionkit_bench_${process.pid}`;
  const store = postgresStore({ pool, table });
  await store.ready();
  const ids = Array.from({ length: 200 }, (_, index) => `p${index}`);
  for (const id of ids) await store.create(row(id), { deadline: 4e9 });
  // The old store's patch: the same UPDATE, one autocommit statement.
  const update = `UPDATE "${table}" SET data = (data - $2::text[]) || $3::jsonb, flash = (flash - $4::text[]) || $5::jsonb,
    renewed_at = $6, expires_at = $7 WHERE id = $1`;
  const cases = {
    'patch, old (one autocommit UPDATE)': (index) =>
      pool.query(update, [ids[index % ids.length], [], JSON.stringify({ visits: index }), [], '{}', 2, 4e9]),
    'patch, store (bounded transaction)': (index) => store.patch(ids[index % ids.length], patch(index)),
    'get, old (pool.query)': (index) => pool.query(`SELECT * FROM "${table}" WHERE id = $1`, [ids[index % ids.length]]),
    'get, store': (index) => store.get(ids[index % ids.length]),
  };
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  const ratios = [];
  const readRatios = [];
  for (const run of Object.values(cases)) await perCall(500, run);
  for (let round = 0; round < rounds; round++) {
    const measured = {};
    for (const [name, run] of Object.entries(cases)) {
      measured[name] = (await perCall(3000, run)).wallUs;
      results[name].push(measured[name]);
    }
    ratios.push(measured['patch, store (bounded transaction)'] / measured['patch, old (one autocommit UPDATE)']);
    readRatios.push(measured['get, store'] / measured['get, old (pool.query)']);
  }
  await store.dispose();
  await pool.query(`DROP TABLE "${table}"`);
  await pool.end();
  return {
    rows: Object.keys(results).map((name) => ({
      case: name,
      'µs per call (8 connections, 64 in flight)': median(results[name]).toFixed(1),
    })),
    ratio: [
      `bounded write / old write: median ${median(ratios).toFixed(2)}x (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
      `store get / pool.query: median ${median(readRatios).toFixed(2)}x (rounds ${readRatios.map((r) => r.toFixed(2)).join(', ')})`,
    ].join('\n'),
  };
}

try {
  console.log(`Node ${process.version}, ${rounds} rounds\n`);
  console.log('SQLite: where the statements run');
  console.table(await sqliteCost());
  console.log('SQLite: event-loop stall while another process holds the write lock for 1 s');
  console.table(await sqliteStalls());
  console.log('Postgres: the cost of a bounded write');
  const postgres = await postgresCost();
  console.table(postgres.rows);
  console.log(postgres.ratio);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
