// Server-side session store benchmark: per-request cost of loading a session by cookie and
// committing it, read-only (no change: no write expected) and read-modify-write (one field),
// with the cookie benchmark's ~200-byte payload and 64 requests in flight, every implementation
// in this process against the same Redis (127.0.0.1:6379) or the same kind of SQLite file.
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
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import ConnectRedisStore from 'connect-redis';
import expressSession from 'express-session';
import { Redis } from 'ioredis';
import { measure } from 'mitata';
import { createSessionManager } from '../../dist/index.js';
import { redisStore } from '../../dist/stores/redis.js';
import { sqliteStore } from '../../dist/stores/sqlite.js';
import { payload, sessionData } from '../http/apps/shared/payload.mjs';

const inFlight = 64;
const secret = randomBytes(32).toString('base64url');
const prefix = `sessionkit-bench:${process.pid}:`;
const clientOptions = { host: '127.0.0.1', port: 6379, enableAutoPipelining: true, maxRetriesPerRequest: 1 };

function cookiePair(setCookie) {
  return setCookie.split(';')[0];
}

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

async function prepareRawRedis() {
  const { client, counts } = await redisClient();
  const key = `${prefix}raw`;
  await client.set(key, JSON.stringify(payload), 'EX', 86400);
  return {
    client,
    counts,
    header: `raw=${key}`,
    async read(cookieHeader) {
      const data = JSON.parse(await client.get(cookieHeader.slice(4)));
      return data.userId;
    },
    async write(cookieHeader) {
      const id = cookieHeader.slice(4);
      const data = JSON.parse(await client.get(id));
      data.visits += 1;
      await client.set(id, JSON.stringify(data), 'EX', 86400);
      return data.userId;
    },
  };
}

async function prepareSessionkitRedis() {
  const { client, counts } = await redisClient();
  const manager = createSessionManager({ secrets: secret, store: redisStore({ client, prefix }) });
  const { session } = await manager.load(null);
  for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
  const header = cookiePair((await manager.commit(session))[0]);
  return {
    client,
    counts,
    header,
    async read(cookieHeader) {
      const { session: loaded } = await manager.load(cookieHeader);
      await manager.commit(loaded);
      return loaded.get('userId');
    },
    async write(cookieHeader) {
      const { session: loaded } = await manager.load(cookieHeader);
      loaded.set('visits', (visits) => visits + 1);
      await manager.commit(loaded);
      return loaded.get('userId');
    },
  };
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

async function prepareExpressSession() {
  const { client, counts } = await redisClient();
  const middleware = expressSession({
    store: new ConnectRedisStore({ client, prefix: `${prefix}express:` }),
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
      const res = fakeResponse(resolve);
      middleware(req, res, (error) => {
        if (error) return reject(error);
        handle(req.session);
        res.end();
      });
    });
  const setCookie = await run(undefined, (session) => Object.assign(session, sessionData()));
  const header = cookiePair(Array.isArray(setCookie) ? setCookie[0] : setCookie);
  return {
    client,
    counts,
    header,
    read: (cookieHeader) => run(cookieHeader, (session) => session.userId),
    write: (cookieHeader) =>
      run(cookieHeader, (session) => {
        session.visits += 1;
      }),
  };
}

function sqliteFile(directory, name) {
  const database = new DatabaseSync(join(directory, `${name}.db`));
  database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  return database;
}

async function prepareRawSqlite(directory) {
  const database = sqliteFile(directory, 'raw');
  database.exec('CREATE TABLE sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL)');
  const select = database.prepare('SELECT data, expires_at FROM sessions WHERE id = ?');
  const update = database.prepare('UPDATE sessions SET data = ?, expires_at = ? WHERE id = ?');
  database.prepare('INSERT INTO sessions VALUES (?, ?, ?)').run('raw', JSON.stringify(payload), 4e9);
  return {
    header: 'raw=raw',
    async read(cookieHeader) {
      return JSON.parse(select.get(cookieHeader.slice(4)).data).userId;
    },
    async write(cookieHeader) {
      const id = cookieHeader.slice(4);
      const data = JSON.parse(select.get(id).data);
      data.visits += 1;
      update.run(JSON.stringify(data), 4e9, id);
      return data.userId;
    },
  };
}

async function prepareSessionkitSqlite(directory) {
  const manager = createSessionManager({
    secrets: secret,
    store: sqliteStore({ database: sqliteFile(directory, 'sessionkit') }),
  });
  const { session } = await manager.load(null);
  for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
  const header = cookiePair((await manager.commit(session))[0]);
  return {
    header,
    async read(cookieHeader) {
      const { session: loaded } = await manager.load(cookieHeader);
      await manager.commit(loaded);
      return loaded.get('userId');
    },
    async write(cookieHeader) {
      const { session: loaded } = await manager.load(cookieHeader);
      loaded.set('visits', (visits) => visits + 1);
      await manager.commit(loaded);
      return loaded.get('userId');
    },
  };
}

/** Commands and round trips of one request run alone. */
async function countOne(implementation, kind) {
  await implementation[kind](implementation.header); // warm (scripts loaded, connections up)
  const { counts } = implementation;
  const before = { ...counts };
  await implementation[kind](implementation.header);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let post-response writes (touch) land
  return { commands: counts.commands - before.commands, roundTrips: counts.writes - before.writes };
}

async function timeRounds(implementations, kinds, rounds) {
  const samples = {};
  for (let round = 0; round < rounds; round++) {
    for (const kind of kinds) {
      for (const [name, implementation] of Object.entries(implementations)) {
        const op = implementation[kind];
        const { header } = implementation;
        const stats = await measure(
          async () => {
            const pending = new Array(inFlight);
            for (let index = 0; index < inFlight; index++) pending[index] = op(header);
            await Promise.all(pending);
          },
          { min_cpu_time: 300 * 1e6, inner_gc: false },
        );
        const key = `${name}|${kind}`;
        samples[key] ??= [];
        samples[key].push(stats.avg / inFlight / 1000); // µs per request
      }
    }
  }
  const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
  return Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)]));
}

async function main() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const kinds = ['read', 'write'];
  const redis = {
    'raw ioredis': await prepareRawRedis(),
    sessionkit: await prepareSessionkitRedis(),
    'express-session + connect-redis': await prepareExpressSession(),
  };
  const counted = {};
  for (const [name, implementation] of Object.entries(redis)) {
    for (const kind of kinds) counted[`redis|${name}|${kind}`] = await countOne(implementation, kind);
  }
  const directory = mkdtempSync(join(tmpdir(), 'sessionkit-bench-'));
  const sqlite = {
    'raw node:sqlite': await prepareRawSqlite(directory),
    sessionkit: await prepareSessionkitSqlite(directory),
  };
  const redisTimes = await timeRounds(redis, kinds, rounds);
  const sqliteTimes = await timeRounds(sqlite, kinds, rounds);

  const rows = [];
  for (const [suite, times, floorName] of [
    ['redis', redisTimes, 'raw ioredis'],
    ['sqlite', sqliteTimes, 'raw node:sqlite'],
  ]) {
    for (const kind of kinds) {
      const floor = times[`${floorName}|${kind}`];
      const ours = times[`sessionkit|${kind}`];
      for (const [key, micros] of Object.entries(times)) {
        const [name, rowKind] = key.split('|');
        if (rowKind !== kind) continue;
        rows.push({
          suite,
          request: kind === 'read' ? 'read-only' : 'read-modify-write',
          implementation: name,
          microsPerRequest: Number(micros.toFixed(2)),
          vsFloor: Number((micros / floor).toFixed(2)),
          vsSessionkit: Number((micros / ours).toFixed(2)),
          commands: counted[`${suite}|${key}`]?.commands ?? '-',
          roundTrips: counted[`${suite}|${key}`]?.roundTrips ?? '-',
        });
      }
    }
  }
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, inFlight, rounds };
  console.table(rows);
  const ours = rows.find(
    (row) => row.suite === 'redis' && row.request === 'read-only' && row.implementation === 'sessionkit',
  );
  const verdict = {
    readOnlyRoundTrips: ours.roundTrips,
    readOnlyVsFloor: ours.vsFloor,
    withinTarget: ours.vsFloor <= 1.2,
  };
  console.log(JSON.stringify({ machine, verdict }));
  if (process.env.BENCH_OUT) {
    const result = { suite: 'stores', date: new Date().toISOString(), machine, rows, verdict };
    writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  }
  for (const implementation of Object.values(redis)) {
    const keys = await implementation.client.keys(`${prefix}*`);
    if (keys.length > 0) await implementation.client.del(...keys);
    implementation.client.disconnect();
  }
  rmSync(directory, { recursive: true, force: true });
}

await main();
