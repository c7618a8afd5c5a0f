// Cookie-session benchmark: "read the Cookie header, change one field, produce Set-Cookie"
// with a ~200-byte payload, 64 operations in flight, every implementation in this process.
//
//   npm run bench:cookie          (builds first; runs on Node 24 from devDependencies)
//
// Implementations:
//   floor         hand-written minimum on node:crypto AES-256-GCM with a KeyObject: base64url,
//                 decrypt, JSON, encrypt, Set-Cookie string. No validation at all.
//   sessionkit    createCookieSessionStorage from dist/ (what users install): the browser sends back
//                 the cookie it was last given, as in real traffic (served from the cache of
//                 authenticated values after the first request).
//   sessionkit (cold cookie)  the same on values this process has not seen (AES-GCM every time).
//   sessionkit (cold cookie, WebCrypto)  the same with cryptoEngine 'webcrypto' (what runtimes
//                 without node:crypto use): the price of the node:crypto fast path's absence.
//   iron-session  v9 getIronSession(webCookies(...)) + save().
//   react-router  v8 createCookieSessionStorage (signed, not encrypted).
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { getIronSession, webCookies } from 'iron-session';
import { measure } from 'mitata';
import { createCookieSessionStorage as createReactRouterStorage } from 'react-router';
import { createCookieSessionStorage } from '../../dist/index.js';
import { payload, sessionData } from '../http/apps/shared/payload.mjs';

const inFlight = 64;
const secret = randomBytes(32).toString('base64url');

function cookiePair(setCookie) {
  return setCookie.split(';')[0];
}

async function prepareFloor() {
  const key = createSecretKey(randomBytes(32));
  const seal = (object) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(object)), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  };
  const header = `floor=${seal(payload)}`;
  return {
    header,
    async op(cookieHeader) {
      const bytes = Buffer.from(cookieHeader.slice(cookieHeader.indexOf('=') + 1), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
      const data = JSON.parse(plain.toString('utf8'));
      data.visits += 1;
      return `floor=${seal(data)}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`;
    },
  };
}

async function prepareSessionkit() {
  const storage = createCookieSessionStorage({ cookie: { secret } });
  const session = await storage.getSession();
  for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
  const header = cookiePair(await storage.commitSession(session));
  return {
    header,
    async op(cookieHeader) {
      const loaded = await storage.getSession(cookieHeader);
      loaded.set('visits', (visits) => visits + 1);
      return storage.commitSession(loaded);
    },
  };
}

// The same operation on a cookie value this process has not opened or written recently, so the
// sessionkit cache of authenticated values cannot help (each op uses a different value of 8192,
// minted by another storage instance with the same secret).
async function prepareSessionkitCold(cryptoEngine = 'auto') {
  const minter = createCookieSessionStorage({ cookie: { secret } });
  const headers = [];
  for (let index = 0; index < 8192; index++) {
    const session = await minter.getSession();
    for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
    headers.push(cookiePair(await minter.commitSession(session)));
  }
  const storage = createCookieSessionStorage({ cookie: { secret }, cryptoEngine });
  let next = 0;
  return {
    header: headers[0],
    async op() {
      const loaded = await storage.getSession(headers[next++ % headers.length]);
      loaded.set('visits', (visits) => visits + 1);
      return storage.commitSession(loaded);
    },
  };
}

async function prepareIronSession() {
  const options = { password: secret, cookieName: 'iron', ttl: 86400 };
  const first = new Headers();
  const session = await getIronSession(webCookies(new Request('https://bench.test/'), first), options);
  Object.assign(session, sessionData());
  await session.save();
  const header = cookiePair(first.get('set-cookie'));
  return {
    header,
    async op(cookieHeader) {
      const request = new Request('https://bench.test/', { headers: { cookie: cookieHeader } });
      const headers = new Headers();
      const loaded = await getIronSession(webCookies(request, headers), options);
      loaded.visits += 1;
      await loaded.save();
      return headers.get('set-cookie');
    },
  };
}

async function prepareReactRouter() {
  const storage = createReactRouterStorage({
    cookie: { name: 'rr', secrets: [secret], httpOnly: true, secure: true, sameSite: 'lax', maxAge: 86400 },
  });
  const session = await storage.getSession();
  for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
  const header = cookiePair(await storage.commitSession(session));
  return {
    header,
    async op(cookieHeader) {
      const loaded = await storage.getSession(cookieHeader);
      loaded.set('visits', loaded.get('visits') + 1);
      return storage.commitSession(loaded);
    },
  };
}

const implementations = {
  floor: prepareFloor,
  sessionkit: prepareSessionkit,
  'sessionkit (cold cookie)': () => prepareSessionkitCold('auto'),
  'sessionkit (cold cookie, WebCrypto)': () => prepareSessionkitCold('webcrypto'),
  'iron-session 9': prepareIronSession,
  'react-router 8': prepareReactRouter,
};

async function main() {
  const prepared = {};
  for (const [name, prepare] of Object.entries(implementations)) {
    prepared[name] = await prepare();
    const out = await prepared[name].op(prepared[name].header);
    if (typeof out !== 'string' || !out.includes('=')) throw new Error(`${name} produced no Set-Cookie`);
  }
  // Interleave rounds so drift (thermal, GC, other load) hits every implementation alike.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const samples = Object.fromEntries(Object.keys(prepared).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, { header, op }] of Object.entries(prepared)) {
      const stats = await measure(
        async () => {
          const pending = new Array(inFlight);
          for (let index = 0; index < inFlight; index++) pending[index] = op(header);
          await Promise.all(pending);
        },
        { min_cpu_time: 300 * 1e6, inner_gc: false },
      );
      samples[name].push(stats.avg / inFlight / 1000); // ns per batch -> µs per op
    }
  }
  const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)];
  const perOp = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
  const floor = perOp.floor;
  const ours = perOp.sessionkit;
  const rows = Object.entries(perOp).map(([name, micros]) => ({
    implementation: name,
    microsPerOp: Number(micros.toFixed(2)),
    vsFloor: Number((micros / floor).toFixed(2)),
    vsSessionkit: Number((micros / ours).toFixed(2)),
  }));
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, inFlight, rounds };
  const result = { suite: 'cookie', date: new Date().toISOString(), machine, rows };
  console.table(rows);
  const cold = perOp['sessionkit (cold cookie)'];
  const verdict = {
    withinFloorTarget: ours / floor <= 1.5 && cold / floor <= 1.5,
    coldVsFloor: cold / floor,
    webCryptoVsNodeCrypto: perOp['sessionkit (cold cookie, WebCrypto)'] / cold,
    ironSessionRatio: perOp['iron-session 9'] / ours,
  };
  console.log(JSON.stringify(verdict));
  if (process.env.BENCH_OUT)
    writeFileSync(process.env.BENCH_OUT, `${JSON.stringify({ ...result, verdict }, null, 2)}\n`);
}

await main();
