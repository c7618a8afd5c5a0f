// Cookie-session benchmark, every implementation in this process, 64 operations in flight, the
// ~200-byte payload of the other suites. Two operations:
//   read-modify-write  read the Cookie header, change one field, produce Set-Cookie;
//   unchanged read     read the Cookie header, change nothing (sessionkit sends no Set-Cookie).
// Traffic (bench/support/traffic.mjs): the headline rows have 10,000 users of seeded Zipf(1.0)
// popularity, each browser sending back the cookie it was last given; cookies were sealed
// beforehand by another instance, so the measured one starts with nothing remembered. Secondary
// rows send one cookie over and over (what sessionkit's cache of opened cookies makes free).
//
//   npm run bench:cookie          (builds first; runs on Node 24 from devDependencies)
//
// Implementations:
//   floor         hand-written minimum on node:crypto AES-256-GCM: a KeyObject made once, IVs cut
//                 from a pool of random bytes, base64url, decrypt, JSON, encrypt, Set-Cookie
//                 string. No validation at all. Its decrypt-only twin (decrypt + JSON.parse) is
//                 the floor of the unchanged read.
//   sessionkit    createCookieSessionStorage from dist/ (what users install), default cookieCache
//                 (2048 values); "cache off" is the same with cookieCache: { maxEntries: 0 }.
//   iron-session  v9 getIronSession(webCookies(...)) + save().
//   react-router  v8 createCookieSessionStorage (signed, not encrypted).
// Each variant's block runs right next to a block of its floor, and each round gives one ratio
// (bench/support/ratios.mjs); "floor (A/A control)" is a second floor instance against the first.
//
// Also measured: the cache hit rate of sessionkit on the same traffic (a pass on the WebCrypto
// engine counting crypto.subtle.decrypt calls), and the heap one remembered cookie takes (needs
// --expose-gc, which bench/run.mjs and npm run bench:cookie pass).
//
// Environment: BENCH_OUT (JSON file), BENCH_ROUNDS (rounds of paired blocks, default 12),
// BENCH_BLOCK_MS (one block's length, default 200).
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { getIronSession, webCookies } from 'iron-session';
import { createCookieSessionStorage as createReactRouterStorage } from 'react-router';
import { createCookieSessionStorage } from '../../dist/index.js';
import { sessionData } from '../http/apps/shared/payload.mjs';
import { pairedRounds, summarise, timedBlock, verdictOf } from '../support/ratios.mjs';
import {
  cookiePairOf,
  createBrowsers,
  createOneCookieBrowser,
  mintCookies,
  trafficSettings,
} from '../support/traffic.mjs';

const settings = {
  inFlight: 64,
  rounds: Number(process.env.BENCH_ROUNDS ?? 12),
  blockMilliseconds: Number(process.env.BENCH_BLOCK_MS ?? 200),
  users: trafficSettings.users,
  zipfExponent: trafficSettings.zipfExponent,
};
const secret = randomBytes(32).toString('base64url');
/** The floor's key, made once (every floor instance shares it, as sessionkit's share the secret). */
const floorKey = createSecretKey(randomBytes(32));

/** IVs cut from a pool of random bytes: one randomBytes call per 4,096 IVs. */
function createIvPool() {
  let pool = randomBytes(12 * 4096);
  let offset = 0;
  return () => {
    if (offset === pool.length) {
      pool = randomBytes(pool.length);
      offset = 0;
    }
    offset += 12;
    return pool.subarray(offset - 12, offset);
  };
}

/** The floor: AES-256-GCM on node:crypto with nothing but the work itself. */
function createFloor() {
  const key = floorKey;
  const nextIv = createIvPool();
  const seal = (object) => {
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(object), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  };
  const open = (cookieHeader) => {
    const bytes = Buffer.from(cookieHeader.slice(cookieHeader.indexOf('=') + 1), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  };
  return {
    mint: async (user) => `floor=${seal({ ...sessionData(), userId: `u_${user}` })}`,
    async write(cookieHeader) {
      const data = open(cookieHeader);
      data.visits += 1;
      return [`floor=${seal(data)}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`];
    },
    async read(cookieHeader) {
      if (typeof open(cookieHeader).userId !== 'string') throw new Error('floor: no user');
      return [];
    },
  };
}

/** sessionkit's cookie storage; `cookieCache` as given. */
function createSessionkit(options = {}) {
  const storage = createCookieSessionStorage({ cookie: { secret }, ...options });
  return {
    async mint(user) {
      const session = await storage.getSession();
      for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
      session.set('userId', `u_${user}`);
      return cookiePairOf(await storage.commitSession(session));
    },
    async write(cookieHeader) {
      const session = await storage.getSession(cookieHeader);
      session.set('visits', (visits) => visits + 1);
      return [await storage.commitSession(session)];
    },
    async read(cookieHeader) {
      const session = await storage.getSession(cookieHeader);
      if (typeof session.get('userId') !== 'string') throw new Error('sessionkit: no user');
      return storage.commitSessionCookies(session);
    },
  };
}

function createIronSession() {
  const options = { password: secret, cookieName: 'iron', ttl: 86400 };
  return {
    async mint(user) {
      const headers = new Headers();
      const session = await getIronSession(webCookies(new Request('https://bench.test/'), headers), options);
      Object.assign(session, sessionData(), { userId: `u_${user}` });
      await session.save();
      return cookiePairOf(headers.get('set-cookie'));
    },
    async write(cookieHeader) {
      const request = new Request('https://bench.test/', { headers: { cookie: cookieHeader } });
      const headers = new Headers();
      const session = await getIronSession(webCookies(request, headers), options);
      session.visits += 1;
      await session.save();
      return headers.getSetCookie();
    },
  };
}

function createReactRouter() {
  const storage = createReactRouterStorage({
    cookie: { name: 'rr', secrets: [secret], httpOnly: true, secure: true, sameSite: 'lax', maxAge: 86400 },
  });
  return {
    async mint(user) {
      const session = await storage.getSession();
      for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
      session.set('userId', `u_${user}`);
      return cookiePairOf(await storage.commitSession(session));
    },
    async write(cookieHeader) {
      const session = await storage.getSession(cookieHeader);
      session.set('visits', session.get('visits') + 1);
      return [await storage.commitSession(session)];
    },
  };
}

/**
 * A measured variant: `create()` makes the instance to time, a separate `create()` mints every
 * user's first cookie (so the timed instance has remembered nothing).
 */
const libraries = {
  floor: createFloor,
  sessionkit: () => createSessionkit(),
  'sessionkit, cache off': () => createSessionkit({ cookieCache: { maxEntries: 0 } }),
  'iron-session 9': createIronSession,
  'react-router 8': createReactRouter,
};

/** Floors are the references; "A/A control" is a second floor against the first. */
const groups = {
  'read-modify-write': {
    reference: 'floor',
    variants: [
      ['floor', 'floor', 'users'],
      ['floor (A/A control)', 'floor', 'users'],
      ['sessionkit', 'sessionkit', 'users'],
      ['sessionkit, cache off', 'sessionkit, cache off', 'users'],
      ['iron-session 9', 'iron-session 9', 'users'],
      ['react-router 8', 'react-router 8', 'users'],
      ['floor, one cookie', 'floor', 'one'],
      ['sessionkit, one cookie', 'sessionkit', 'one'],
      ['iron-session 9, one cookie', 'iron-session 9', 'one'],
      ['react-router 8, one cookie', 'react-router 8', 'one'],
    ],
  },
  'unchanged read': {
    reference: 'decrypt-only floor',
    variants: [
      ['decrypt-only floor', 'floor', 'users'],
      ['decrypt-only floor (A/A control)', 'floor', 'users'],
      ['sessionkit', 'sessionkit', 'users'],
      ['sessionkit, cache off', 'sessionkit, cache off', 'users'],
      ['decrypt-only floor, one cookie', 'floor', 'one'],
      ['sessionkit, one cookie', 'sessionkit', 'one'],
    ],
  },
};

/** Each library's users' first cookies, minted once by an instance of their own. */
async function mintAll() {
  const minted = {};
  for (const [name, create] of Object.entries(libraries)) {
    if (name === 'sessionkit, cache off') continue; // the same format and secret as sessionkit's
    const minter = create();
    minted[name] = await mintCookies(settings.users, (user) => minter.mint(user));
  }
  minted['sessionkit, cache off'] = minted.sessionkit;
  return minted;
}

/** Runs one group's paired rounds; returns its rows. */
async function measureGroup(kind, group, minted) {
  const operation = kind === 'read-modify-write' ? 'write' : 'read';
  const entries = new Map();
  for (const [name, library, traffic] of group.variants) {
    const instance = libraries[library]();
    const browsers = traffic === 'users' ? createBrowsers(minted[library]) : createOneCookieBrowser(minted[library][0]);
    const op = instance[operation].bind(instance);
    const check = await op(browsers.cookieOf(0));
    if (operation === 'write' && !check[0]?.includes('=')) throw new Error(`${name}: no Set-Cookie`);
    if (operation === 'read' && check.length > 0) throw new Error(`${name}: an unchanged read wrote a cookie`);
    entries.set(name, { op, browsers, traffic });
  }
  const names = [...entries.keys()];
  const { micros, ratios } = await pairedRounds(names, group.reference, settings.rounds, (name) =>
    timedBlock(entries.get(name).op, entries.get(name).browsers, settings),
  );
  return names.map((name) => ({
    operation: kind,
    implementation: name,
    traffic: entries.get(name).traffic === 'users' ? `${settings.users} users` : 'one cookie',
    microsPerOp: Number(summarise(micros[name]).median.toFixed(2)),
    vsFloor: name === group.reference ? { median: 1, middleHalf: [1, 1] } : summarise(ratios[name]),
    ratios: ratios[name] ?? null,
  }));
}

/**
 * sessionkit's cache hit rate on the many-users traffic, after a warm-up of as many requests: a
 * pass on the WebCrypto engine (same cache) counting the decryptions, each one a miss.
 */
async function cacheHitRate(minted, operation) {
  const storage = createSessionkit({ cryptoEngine: 'webcrypto' });
  const browsers = createBrowsers(minted.sessionkit);
  const decrypt = crypto.subtle.decrypt;
  let decryptions = 0;
  crypto.subtle.decrypt = function countedDecrypt(...args) {
    decryptions++;
    return decrypt.apply(this, args);
  };
  const requests = 20_000;
  try {
    let counted = 0;
    for (let index = 0; index < 2 * requests; index++) {
      if (index === requests) {
        decryptions = 0;
        counted = 0;
      }
      const user = browsers.next();
      browsers.receive(user, await storage[operation](browsers.cookieOf(user)));
      counted++;
    }
    return Number((1 - decryptions / counted).toFixed(3));
  } finally {
    crypto.subtle.decrypt = decrypt;
  }
}

/** Heap bytes one remembered cookie value takes: the heap after 10,000 users were read, over 10,000. */
async function cacheBytesPerEntry(minted) {
  if (typeof globalThis.gc !== 'function') return {};
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const storage = createSessionkit({ cookieCache: { maxEntries: settings.users } });
  for (let pass = 0; pass < 2; pass++) for (const cookie of minted.sessionkit) await storage.read(cookie);
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  await storage.read(minted.sessionkit[0]); // keeps the storage alive until after the reading
  return {
    bytesPerEntry: Math.round((after - before) / settings.users),
    cookieValueLength: minted.sessionkit[0].length - minted.sessionkit[0].indexOf('=') - 1,
  };
}

async function main() {
  const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
  const minted = await mintAll();
  const rows = [];
  for (const [kind, group] of Object.entries(groups)) rows.push(...(await measureGroup(kind, group, minted)));
  const ratiosOf = (operation, implementation) =>
    rows.find((row) => row.operation === operation && row.implementation === implementation).ratios;
  const targets = {
    'read-modify-write, many users: sessionkit vs floor': verdictOf(
      ratiosOf('read-modify-write', 'sessionkit'),
      1.3,
      'at most',
    ),
    'unchanged read, many users: sessionkit vs decrypt-only floor': verdictOf(
      ratiosOf('unchanged read', 'sessionkit'),
      1.5,
      'at most',
    ),
  };
  const cache = {
    hitRateReadModifyWrite: await cacheHitRate(minted, 'write'),
    hitRateUnchangedRead: await cacheHitRate(minted, 'read'),
    ...(await cacheBytesPerEntry(minted)),
  };
  console.table(
    rows.map((row) => ({
      operation: row.operation,
      implementation: row.implementation,
      traffic: row.traffic,
      'µs/op': row.microsPerOp,
      vsFloor: row.vsFloor.median,
      'middle half': row.vsFloor.middleHalf.join('–'),
    })),
  );
  console.table(targets);
  console.log(JSON.stringify({ cache }));
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    loadAverage: { before: loadBefore, after: loadavg().map((value) => Number(value.toFixed(2))) },
  };
  const result = { suite: 'cookie', date: new Date().toISOString(), machine, settings, rows, targets, cache };
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
}

await main();
