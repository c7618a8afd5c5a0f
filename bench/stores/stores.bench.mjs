// Server-side session store benchmark: per-request cost of loading a session by cookie and
// committing it, read-only (no change: no write expected) and read-modify-write (one field),
// with the cookie benchmark's ~200-byte payload and 64 requests in flight, every implementation
// in this process against the same Redis (127.0.0.1:6379) or the same kind of SQLite file.
// Traffic (bench/support/traffic.mjs): the headline rows have 10,000 users (sessions created
// beforehand) of seeded Zipf(1.0) popularity, each browser keeping the newest cookie it was given;
// secondary rows send one cookie over and over. Each variant's block runs right next to a block
// of its raw client (bench/support/ratios.mjs); the A/A control is a second raw client.
//
//   npm run bench:stores          (builds first; runs on Node 24 from devDependencies)
//
// Redis implementations (all on ioredis with enableAutoPipelining):
//   raw ioredis          the floor: GET + JSON.parse (+ SET ... EX for a write). No token check.
//   sessionkit           createSessionManager + redisStore from dist/ (what users install).
//   express-session      express-session 1 + connect-redis 7 on the same ioredis, its middleware
//                        driven with minimal req/res objects (resave: false, saveUninitialized: false).
// SQLite implementations (node:sqlite, WAL, one file each):
//   raw node:sqlite      prepared SELECT + JSON.parse (+ prepared UPDATE for a write).
//   sessionkit           createSessionManager + sqliteStore.
//
// Besides time, it counts per request: commands sent by the client (wrapping sendCommand) and
// round trips (socket writes during one request run alone: auto-pipelined commands share one).
// And the heap one session takes in sessionkit's memoryStore and in express-session's
// MemoryStore (10,000 sessions, needs --expose-gc). Keys in Redis start with bench17: and are
// deleted at the end.
//
// Environment: BENCH_OUT (JSON file), BENCH_ROUNDS (rounds of paired blocks, default 10),
// BENCH_BLOCK_MS (one block's length, default 200).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import ConnectRedisStore from 'connect-redis';
import expressSession from 'express-session';
import { Redis } from 'ioredis';
import { createSessionManager } from '../../dist/index.js';
import { memoryStore } from '../../dist/stores/memory.js';
import { redisStore } from '../../dist/stores/redis.js';
import { sqliteStore } from '../../dist/stores/sqlite.js';
import { sessionData } from '../http/apps/shared/payload.mjs';
import { pairedRounds, summarise, timedBlock, verdictOf } from '../support/ratios.mjs';
import { createBrowsers, createOneCookieBrowser, mintCookies, trafficSettings } from '../support/traffic.mjs';

const settings = {
  inFlight: 64,
  rounds: Number(process.env.BENCH_ROUNDS ?? 10),
  blockMilliseconds: Number(process.env.BENCH_BLOCK_MS ?? 200),
  users: trafficSettings.users,
  zipfExponent: trafficSettings.zipfExponent,
};
const secret = randomBytes(32).toString('base64url');
const prefix = `bench17:${process.pid}:`;
const clientOptions = { host: '127.0.0.1', port: 6379, enableAutoPipelining: true, maxRetriesPerRequest: 1 };

/** Counts commands and socket writes of an ioredis client. */
function instrument(client) {
  const counts = { commands: 0, writes: 0 };
  const sendCommand = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    counts.commands++;
    return sendCommand(command, stream);
  };
  const stream = client.stream;
  const write = stream.write.bind(stream);
  stream.write = (...args) => {
    counts.writes++;
    return write(...args);
  };
  return counts;
}

async function redisClient() {
  const client = new Redis(clientOptions);
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return { client, counts: instrument(client) };
}

const setCookiesOf = (value) => (value === undefined ? [] : [value].flat());

/** The raw client: a key per user, the cookie names the key. */
async function prepareRawRedis() {
  const { client, counts } = await redisClient();
  return {
    client,
    counts,
    async mint(user) {
      const key = `${prefix}raw:${user}`;
      await client.set(key, JSON.stringify({ ...sessionData(), userId: `u_${user}` }), 'EX', 86400);
      return `raw=${key}`;
    },
    async read(cookieHeader) {
      const data = JSON.parse(await client.get(cookieHeader.slice(4)));
      if (typeof data.userId !== 'string') throw new Error('raw: no user');
      return [];
    },
    async write(cookieHeader) {
      const id = cookieHeader.slice(4);
      const data = JSON.parse(await client.get(id));
      data.visits += 1;
      await client.set(id, JSON.stringify(data), 'EX', 86400);
      return [];
    },
  };
}

/** sessionkit's manager over `store`; each operation as an app's request would run it. */
function sessionkitOver(store) {
  const manager = createSessionManager({ secrets: secret, store });
  return {
    manager,
    async mint(user) {
      const { session } = await manager.load(null);
      for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
      session.set('userId', `u_${user}`);
      return (await manager.commit(session))[0].split(';')[0];
    },
    async read(cookieHeader) {
      const { session } = await manager.load(cookieHeader);
      if (typeof session.get('userId') !== 'string') throw new Error('sessionkit: no user');
      return manager.commit(session);
    },
    async write(cookieHeader) {
      const { session } = await manager.load(cookieHeader);
      session.set('visits', (visits) => visits + 1);
      return manager.commit(session);
    },
  };
}

/**
 * The store alone, as the manager calls it (get; get then patch of one field), on sessions the
 * manager created: the same round trips as the raw client, without the session layer above.
 */
function storeAlone(store) {
  const { mint } = sessionkitOver(store);
  const idOf = (cookieHeader) => cookieHeader.slice(cookieHeader.indexOf('=') + 1).split('.')[0];
  return {
    mint,
    async read(cookieHeader) {
      const stored = await store.get(idOf(cookieHeader));
      if (typeof stored?.data.userId !== 'string') throw new Error('store: no user');
      return [];
    },
    async write(cookieHeader) {
      const id = idOf(cookieHeader);
      const stored = await store.get(id);
      const patch = {
        setData: { visits: stored.data.visits + 1 },
        unsetData: [],
        setFlash: {},
        unsetFlash: [],
        renewedAt: stored.renewedAt,
        expiresAt: stored.expiresAt,
      };
      if (!(await store.patch(id, patch))) throw new Error('store: the session is gone');
      return [];
    },
  };
}

async function prepareRedisStoreAlone() {
  const { client, counts } = await redisClient();
  return { client, counts, ...storeAlone(redisStore({ client, prefix: `${prefix}alone:` })) };
}

async function prepareSessionkitRedis() {
  const { client, counts } = await redisClient();
  return { client, counts, ...sessionkitOver(redisStore({ client, prefix })) };
}

function fakeResponse(done) {
  const headers = new Map();
  return {
    statusCode: 200,
    _header: null,
    setHeader(name, value) {
      headers.set(name.toLowerCase(), value);
    },
    getHeader(name) {
      return headers.get(name.toLowerCase());
    },
    writeHead() {
      this._header = 'sent';
      return this;
    },
    _implicitHeader() {
      this.writeHead(this.statusCode);
    },
    write() {
      return true;
    },
    end() {
      done(headers.get('set-cookie'));
      return this;
    },
  };
}

/** express-session's middleware over `store`, driven with minimal req/res objects. */
function expressSessionOver(store) {
  const middleware = expressSession({
    store,
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 86400_000 },
  });
  const run = (cookieHeader, handle) =>
    new Promise((resolve, reject) => {
      const req = {
        headers: cookieHeader ? { cookie: cookieHeader } : {},
        url: '/',
        originalUrl: '/',
        method: 'GET',
        connection: { encrypted: true },
      };
      const res = fakeResponse((setCookie) => resolve(setCookiesOf(setCookie)));
      middleware(req, res, (error) => {
        if (error) return reject(error);
        handle(req.session);
        res.end();
      });
    });
  return {
    async mint(user) {
      const setCookies = await run(undefined, (session) =>
        Object.assign(session, sessionData(), { userId: `u_${user}` }),
      );
      return setCookies[0].split(';')[0];
    },
    read: (cookieHeader) =>
      run(cookieHeader, (session) => {
        if (typeof session.userId !== 'string') throw new Error('express-session: no user');
      }),
    write: (cookieHeader) =>
      run(cookieHeader, (session) => {
        session.visits += 1;
      }),
  };
}

async function prepareExpressSession() {
  const { client, counts } = await redisClient();
  return { client, counts, ...expressSessionOver(new ConnectRedisStore({ client, prefix: `${prefix}express:` })) };
}

function sqliteFile(directory, name) {
  const database = new DatabaseSync(join(directory, `${name}.db`));
  database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  return database;
}

async function prepareRawSqlite(directory, name) {
  const database = sqliteFile(directory, name);
  database.exec('CREATE TABLE sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL)');
  const select = database.prepare('SELECT data, expires_at FROM sessions WHERE id = ?');
  const update = database.prepare('UPDATE sessions SET data = ?, expires_at = ? WHERE id = ?');
  const insert = database.prepare('INSERT INTO sessions VALUES (?, ?, ?)');
  return {
    async mint(user) {
      insert.run(`s${user}`, JSON.stringify({ ...sessionData(), userId: `u_${user}` }), 4e9);
      return `raw=s${user}`;
    },
    async read(cookieHeader) {
      if (typeof JSON.parse(select.get(cookieHeader.slice(4)).data).userId !== 'string') throw new Error('no user');
      return [];
    },
    async write(cookieHeader) {
      const id = cookieHeader.slice(4);
      const data = JSON.parse(select.get(id).data);
      data.visits += 1;
      update.run(JSON.stringify(data), 4e9, id);
      return [];
    },
  };
}

async function prepareSessionkitSqlite(directory) {
  return sessionkitOver(sqliteStore({ database: sqliteFile(directory, 'sessionkit') }));
}

/** Commands and round trips of one request run alone. */
async function countOne(implementation, kind, cookieHeader) {
  await implementation[kind](cookieHeader); // warm (scripts loaded, connections up)
  const { counts } = implementation;
  const before = { ...counts };
  await implementation[kind](cookieHeader);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let post-response writes (touch) land
  return { commands: counts.commands - before.commands, roundTrips: counts.writes - before.writes };
}

/**
 * Times one backend: every implementation with many users and with one cookie, for both kinds of
 * request, in paired rounds against the raw client (`floorName`); returns rows.
 */
async function measureBackend(backend, implementations, floorName, minted, counted) {
  const rows = [];
  for (const kind of ['read', 'write']) {
    const entries = new Map();
    for (const [name, implementation] of Object.entries(implementations)) {
      const users = minted[name];
      entries.set(name, { op: implementation[kind], browsers: createBrowsers(users), traffic: 'users', name });
      if (name !== `${floorName} (A/A control)`) {
        entries.set(`${name}, one cookie`, {
          op: implementation[kind],
          browsers: createOneCookieBrowser(users[0]),
          traffic: 'one',
          name,
        });
      }
    }
    const names = [...entries.keys()];
    const { micros, ratios } = await pairedRounds(names, floorName, settings.rounds, (name) =>
      timedBlock(entries.get(name).op, entries.get(name).browsers, settings),
    );
    for (const name of names) {
      const entry = entries.get(name);
      rows.push({
        backend,
        request: kind === 'read' ? 'read-only' : 'read-modify-write',
        implementation: name,
        traffic: entry.traffic === 'users' ? `${settings.users} users` : 'one cookie',
        microsPerRequest: Number(summarise(micros[name]).median.toFixed(2)),
        vsFloor: name === floorName ? { median: 1, middleHalf: [1, 1] } : summarise(ratios[name]),
        ratios: ratios[name] ?? null,
        commands: counted[`${backend}|${entry.name}|${kind}`]?.commands ?? '-',
        roundTrips: counted[`${backend}|${entry.name}|${kind}`]?.roundTrips ?? '-',
      });
    }
  }
  return rows;
}

/** Mints every implementation's users, one after another. */
async function mintAll(implementations) {
  const minted = {};
  for (const [name, implementation] of Object.entries(implementations)) {
    minted[name] = await mintCookies(settings.users, (user) => implementation.mint(user));
  }
  return minted;
}

/** Heap bytes one session takes in a memory store: 10,000 sessions created through `mint`. */
async function heapPerSession(create) {
  if (typeof globalThis.gc !== 'function') return null;
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const implementation = create();
  await mintCookies(settings.users, (user) => implementation.mint(user));
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  await implementation.mint(settings.users); // keeps the store alive until after the reading
  return Math.round((after - before) / settings.users);
}

async function main() {
  const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
  const redis = {
    'raw ioredis': await prepareRawRedis(),
    'raw ioredis (A/A control)': await prepareRawRedis(),
    sessionkit: await prepareSessionkitRedis(),
    'sessionkit redisStore alone': await prepareRedisStoreAlone(),
    'express-session + connect-redis': await prepareExpressSession(),
  };
  const directory = mkdtempSync(join(tmpdir(), 'sessionkit-bench-'));
  const sqlite = {
    'raw node:sqlite': await prepareRawSqlite(directory, 'raw'),
    'raw node:sqlite (A/A control)': await prepareRawSqlite(directory, 'raw-control'),
    sessionkit: await prepareSessionkitSqlite(directory),
    'sessionkit sqliteStore alone': storeAlone(sqliteStore({ database: sqliteFile(directory, 'store-alone') })),
  };
  try {
    const mintedRedis = await mintAll(redis);
    const counted = {};
    for (const [name, implementation] of Object.entries(redis)) {
      for (const kind of ['read', 'write']) {
        counted[`redis|${name}|${kind}`] = await countOne(implementation, kind, mintedRedis[name][0]);
      }
    }
    const mintedSqlite = await mintAll(sqlite);
    const rows = [
      ...(await measureBackend('redis', redis, 'raw ioredis', mintedRedis, counted)),
      ...(await measureBackend('sqlite', sqlite, 'raw node:sqlite', mintedSqlite, counted)),
    ];
    const ratiosOf = (backend, request, implementation) =>
      rows.find(
        (row) =>
          row.backend === backend &&
          row.request === request &&
          row.implementation === implementation &&
          row.traffic !== 'one cookie',
      ).ratios;
    const targets = {};
    for (const backend of ['redis', 'sqlite']) {
      for (const request of ['read-only', 'read-modify-write']) {
        const implementation = `sessionkit ${backend}Store alone`;
        targets[`${backend} ${request}, many users: ${implementation} vs raw client`] = verdictOf(
          ratiosOf(backend, request, implementation),
          1.3,
          'at most',
        );
      }
    }
    const memory = {
      sessionkitMemoryStoreBytesPerSession: await heapPerSession(() =>
        sessionkitOver(memoryStore({ maxEntries: 2 * settings.users })),
      ),
      expressSessionMemoryStoreBytesPerSession: await heapPerSession(() =>
        expressSessionOver(new expressSession.MemoryStore()),
      ),
    };
    console.table(
      rows.map((row) => ({
        backend: row.backend,
        request: row.request,
        implementation: row.implementation,
        'µs/req': row.microsPerRequest,
        vsFloor: row.vsFloor.median,
        'middle half': row.vsFloor.middleHalf.join('–'),
        commands: row.commands,
        roundTrips: row.roundTrips,
      })),
    );
    console.table(targets);
    console.log(JSON.stringify({ memory }));
    const machine = {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      loadAverage: { before: loadBefore, after: loadavg().map((value) => Number(value.toFixed(2))) },
    };
    if (process.env.BENCH_OUT) {
      const result = { suite: 'stores', date: new Date().toISOString(), machine, settings, rows, targets, memory };
      writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    for (const implementation of Object.values(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await implementation.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await implementation.client.del(...keys);
      } while (cursor !== '0');
      implementation.client.disconnect();
    }
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
