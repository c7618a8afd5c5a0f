// The sealed-cookie operation (read the Cookie header, change one field, produce Set-Cookie) of
// sessionkit and iron-session 9, on whatever runtime imports this module: plain ES module, Web
// APIs only (performance.now, WebCrypto), no Node built-in.
//
// The first variant is the reference: every other variant is timed in a block right next to one of
// its blocks, and the ratio of the two is the figure that matters (the machine may be shared).
//
// Traffic model: 10,000 users, each with a cookie sealed beforehand by another instance of the
// library (so the measured instance starts with nothing remembered), chosen by a Zipf(1.0)
// popularity law over a fixed, seeded sequence; every browser sends back the cookie it was last
// given, as in real traffic. Secondary rows: every request on a cookie the process has never seen,
// and one cookie repeated (what a cache makes cheap; not what a server sees).
import { getIronSession, webCookies } from 'iron-session';
import { createSessionManager } from 'sessionkit';
import { sessionData } from '../http/apps/shared/payload.mjs';

/** Settings, the same on every runtime. */
export const settings = Object.freeze({ users: 10_000, zipfExponent: 1, inFlight: 16, blockMilliseconds: 150 });

const secret = 'Bx8wE1nV5qL2tR9yK4mC7pD0sF3gH6jZ8aQ1wE4rT7u';
const cookieName = 'session';

/** mulberry32: a small seeded PRNG, so every runtime and every run draws the same users. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` user indexes drawn with probability proportional to 1 / rank^exponent. */
export function zipfSequence(users, exponent, count, seed) {
  const cumulative = new Float64Array(users);
  let total = 0;
  for (let rank = 0; rank < users; rank++) {
    total += 1 / (rank + 1) ** exponent;
    cumulative[rank] = total;
  }
  const random = seededRandom(seed);
  const sequence = new Uint32Array(count);
  for (let index = 0; index < count; index++) {
    const target = random() * total;
    let low = 0;
    let high = users - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    sequence[index] = low;
  }
  return sequence;
}

const pairOf = (setCookie) => setCookie.slice(0, setCookie.indexOf(';'));

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
    const cookies = new Array(settings.users);
    for (let index = 0; index < settings.users; index++) cookies[index] = await minter.seal(index);
    sealed[library] = cookies;
  }
  sealed['sessionkit (default engine)'] = sealed['sessionkit (WebCrypto)'];
  const sequence = zipfSequence(settings.users, settings.zipfExponent, 131_072, 20261206);
  const state = [];
  for (const variant of variants) {
    const library = libraries[variant.library]();
    state.push({
      variant,
      library,
      jar: [...sealed[variant.library]],
      next: 0,
      // "unseen": a pool minted by yet another instance, used in order; a cookie comes round again
      // only after 8,192 others, long after the 2,048 values sessionkit remembers were replaced.
      unseen: variant.traffic === 'unseen' ? await mintPool(libraries[variant.library](), 8192) : undefined,
    });
  }
  for (const entry of state) {
    const first = await entry.library.op(entry.jar[0]);
    const again = await entry.library.op(pairOf(first));
    if (!again.startsWith(`${cookieName}=`)) throw new Error(`${entry.variant.name}: no Set-Cookie`);
  }
  return { sealed, sequence, state, prepareMs: performance.now() - startedAt };
}

/** `count` cookies sealed by `minter` for users 0, 1, 2, ... */
async function mintPool(minter, count) {
  const pool = new Array(count);
  for (let index = 0; index < count; index++) pool[index] = await minter.seal(index % settings.users);
  return pool;
}

/**
 * Runs one block of a variant: `inFlight` operations at a time until `blockMilliseconds` have
 * passed (workerd's clock moves in whole milliseconds, so blocks are long next to that step);
 * returns µs per operation.
 */
async function runBlock(prepared, entry) {
  const { sequence } = prepared;
  const { traffic } = entry.variant;
  let completed = 0;
  const startedAt = performance.now();
  const deadline = startedAt + settings.blockMilliseconds;
  const worker = async () => {
    while (performance.now() < deadline) {
      if (traffic === 'repeated') {
        await entry.library.op(entry.jar[0]);
      } else if (traffic === 'unseen') {
        await entry.library.op(entry.unseen[entry.next++ % entry.unseen.length]);
      } else {
        const user = sequence[entry.next++ % sequence.length];
        const setCookie = await entry.library.op(entry.jar[user]);
        entry.jar[user] = pairOf(setCookie);
      }
      completed++;
    }
  };
  await Promise.all(Array.from({ length: settings.inFlight }, worker));
  return ((performance.now() - startedAt) * 1000) / completed;
}

/**
 * One round: every other variant as a pair of blocks with the reference (sessionkit on WebCrypto)
 * right next to it, the reference first in even rounds and second in odd ones, so each ratio
 * compares two blocks a moment apart. Returns µs per operation of every block, and each
 * variant's ratio to its neighbouring reference block.
 */
export async function runRound(prepared, round) {
  const [reference, ...others] = prepared.state;
  const micros = { [reference.variant.name]: [] };
  const ratios = {};
  for (const entry of others) {
    const first = round % 2 === 0 ? reference : entry;
    const second = first === reference ? entry : reference;
    const firstMicros = await runBlock(prepared, first);
    const secondMicros = await runBlock(prepared, second);
    const referenceMicros = first === reference ? firstMicros : secondMicros;
    const variantMicros = first === reference ? secondMicros : firstMicros;
    micros[reference.variant.name].push(referenceMicros);
    micros[entry.variant.name] = [variantMicros];
    ratios[entry.variant.name] = variantMicros / referenceMicros;
  }
  return { micros, ratios };
}

/**
 * Prepares, runs one unrecorded warm-up round, then `rounds` recorded rounds; returns every
 * block's µs per operation and every round's ratios to the neighbouring reference block.
 */
export async function run(rounds, runtime) {
  const prepared = await prepare();
  await runRound(prepared, 0);
  const samples = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  const ratios = Object.fromEntries(variants.slice(1).map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    const result = await runRound(prepared, round);
    for (const [name, values] of Object.entries(result.micros)) samples[name].push(...values);
    for (const [name, value] of Object.entries(result.ratios)) ratios[name].push(value);
  }
  return { runtime, settings, rounds, prepareMs: Math.round(prepared.prepareMs), samples, ratios };
}
