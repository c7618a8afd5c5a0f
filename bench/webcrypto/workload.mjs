// The sealed-cookie operation (read the Cookie header, change one field, produce Set-Cookie) of
// sessionkit and iron-session 9, on whatever runtime imports this module: plain ES module, Web
// APIs only (performance.now, WebCrypto), no Node built-in.
//
// The first variant is the reference: every other variant is timed in a block right next to one of
// its blocks, and the ratio of the two is the figure that matters (the machine may be shared).
//
// Traffic model (bench/support/traffic.mjs, shared by every suite): 10,000 users, each with a
// cookie sealed beforehand by another instance of the library (so the measured instance starts
// with nothing remembered), chosen by a seeded Zipf(1.0) popularity law; every browser sends back
// the cookie it was last given, as in real traffic. Secondary rows: every request on a cookie the
// process has never seen, and one cookie repeated (what a cache makes cheap; not what a server sees).
import { getIronSession, webCookies } from 'iron-session';
import { createSessionManager } from 'sessionkit';
import { sessionData } from '../http/apps/shared/payload.mjs';
import { pairedRounds, timedBlock } from '../support/ratios.mjs';
import {
  cookiePairOf,
  createBrowsers,
  createOneCookieBrowser,
  mintCookies,
  trafficSettings,
} from '../support/traffic.mjs';

/** Settings, the same on every runtime. */
export const settings = Object.freeze({
  users: trafficSettings.users,
  zipfExponent: trafficSettings.zipfExponent,
  inFlight: 16,
  blockMilliseconds: 150,
});

const secret = 'Bx8wE1nV5qL2tR9yK4mC7pD0sF3gH6jZ8aQ1wE4rT7u';
const cookieName = 'session';
const pairOf = cookiePairOf;

/** sessionkit's session manager with the given AES-GCM/HMAC engine. */
function sessionkit(cryptoEngine) {
  const manager = createSessionManager({ secrets: secret, cookie: { name: cookieName }, cryptoEngine });
  return {
    async seal(userIndex) {
      const { session } = await manager.load(null);
      for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
      session.set('userId', `u_${userIndex}`);
      return pairOf((await manager.commit(session))[0]);
    },
    async op(cookieHeader) {
      const { status, session } = await manager.load(cookieHeader);
      if (status !== 'valid') throw new Error(`sessionkit: the cookie did not open (${status})`);
      session.set('visits', (visits) => visits + 1);
      return (await manager.commit(session))[0];
    },
  };
}

/** iron-session 9 with its Web `Request`/`Headers` cookie jar (its documented non-Node path). */
function ironSession() {
  const options = { password: secret, cookieName, ttl: 86400 };
  return {
    async seal(userIndex) {
      const headers = new Headers();
      const session = await getIronSession(webCookies(new Request('https://bench.test/'), headers), options);
      Object.assign(session, sessionData(), { userId: `u_${userIndex}` });
      await session.save();
      return pairOf(headers.get('set-cookie'));
    },
    async op(cookieHeader) {
      const request = new Request('https://bench.test/', { headers: { cookie: cookieHeader } });
      const headers = new Headers();
      const session = await getIronSession(webCookies(request, headers), options);
      if (typeof session.visits !== 'number') throw new Error('iron-session: the cookie did not open');
      session.visits += 1;
      await session.save();
      return headers.get('set-cookie');
    },
  };
}

const libraries = {
  'sessionkit (WebCrypto)': () => sessionkit('webcrypto'),
  'sessionkit (default engine)': () => sessionkit('auto'),
  'iron-session 9': ironSession,
};

/**
 * The measured variants: `library` names the implementation, `traffic` how cookies are chosen:
 * `users` (Zipf over 10,000 users, each browser keeping its latest cookie), `unseen` (every
 * request a cookie the measured instance never saw), `repeated` (one cookie, every time).
 */
export const variants = [
  { name: 'sessionkit (WebCrypto)', library: 'sessionkit (WebCrypto)', traffic: 'users' },
  { name: 'sessionkit (default engine)', library: 'sessionkit (default engine)', traffic: 'users' },
  { name: 'iron-session 9', library: 'iron-session 9', traffic: 'users' },
  { name: 'sessionkit (WebCrypto), every cookie unseen', library: 'sessionkit (WebCrypto)', traffic: 'unseen' },
  { name: 'sessionkit (WebCrypto), one cookie repeated', library: 'sessionkit (WebCrypto)', traffic: 'repeated' },
  { name: 'iron-session 9, one cookie repeated', library: 'iron-session 9', traffic: 'repeated' },
];

/**
 * Seals every user's cookie beforehand (with a separate instance of each library) and checks
 * that every variant's operation answers a Set-Cookie its own library reads back.
 */
export async function prepare() {
  const startedAt = performance.now();
  const sealed = {};
  for (const [library, create] of Object.entries(libraries)) {
    if (library === 'sessionkit (default engine)') continue; // same format and keys as WebCrypto's
    const minter = create();
    sealed[library] = await mintCookies(settings.users, (user) => minter.seal(user));
  }
  sealed['sessionkit (default engine)'] = sealed['sessionkit (WebCrypto)'];
  const state = new Map();
  for (const variant of variants) {
    const library = libraries[variant.library]();
    const browsers =
      variant.traffic === 'users'
        ? createBrowsers(sealed[variant.library])
        : variant.traffic === 'repeated'
          ? createOneCookieBrowser(sealed[variant.library][0])
          : // "unseen": a pool minted by yet another instance, taken in turn; a cookie comes round
            // again only after 8,192 others, long after the 2,048 values sessionkit remembers.
            unseenBrowser(await mintCookies(8192, (user) => libraries[variant.library]().seal(user % settings.users)));
    state.set(variant.name, { variant, library, browsers });
  }
  for (const entry of state.values()) {
    const first = await entry.library.op(entry.browsers.cookieOf(0));
    const again = await entry.library.op(pairOf(first));
    if (!again.startsWith(`${cookieName}=`)) throw new Error(`${entry.variant.name}: no Set-Cookie`);
  }
  return { state, prepareMs: performance.now() - startedAt };
}

/** A browser that sends each cookie of `pool` in turn and keeps none of the answers. */
function unseenBrowser(pool) {
  let next = 0;
  return { users: pool.length, next: () => next++ % pool.length, cookieOf: (user) => pool[user], receive() {} };
}

/**
 * Prepares, runs one unrecorded warm-up round, then `rounds` recorded rounds of paired blocks
 * (every variant next to a block of the reference, sessionkit on WebCrypto); returns every
 * block's µs per operation and every round's ratios to the neighbouring reference block.
 */
export async function run(rounds, runtime) {
  const prepared = await prepare();
  const names = variants.map((variant) => variant.name);
  // Blocks are timed, not counted: workerd's clock moves in whole milliseconds.
  const { micros, ratios } = await pairedRounds(names, names[0], rounds, (name) => {
    const { library, browsers } = prepared.state.get(name);
    return timedBlock(async (cookieHeader) => [await library.op(cookieHeader)], browsers, settings);
  });
  return { runtime, settings, rounds, prepareMs: Math.round(prepared.prepareMs), samples: micros, ratios };
}
