// The traffic model every benchmark suite shares: many distinct users (10,000 sessions by
// default), chosen by a seeded Zipf(1.0) popularity law, each browser sending back the cookie it
// was last given (it replaces a cookie when the server sends a new one, drops it on Max-Age=0).
// The secondary model is one cookie sent over and over, what a cache of opened cookies makes free.
// Plain ES module, Web APIs only: it also runs on workerd, Deno and Bun (bench/webcrypto).

/** The defaults of the many-users model, the same in every suite and on every runtime. */
export const trafficSettings = Object.freeze({
  users: 10_000,
  zipfExponent: 1,
  seed: 20261206,
  sequenceLength: 131_072,
});

/** mulberry32: a small seeded PRNG, so every suite, runtime and run draws the same users. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` user indexes in [0, users) drawn with probability proportional to 1 / rank^exponent. */
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

/** The `name=value` pair of a `Set-Cookie` line. */
export function cookiePairOf(setCookie) {
  const end = setCookie.indexOf(';');
  return end < 0 ? setCookie : setCookie.slice(0, end);
}

/** A `Cookie` header with the cookies of `setCookies` applied (replaced, added, or removed on Max-Age=0). */
export function applySetCookies(cookieHeader, setCookies) {
  if (setCookies.length === 0) return cookieHeader;
  const jar = new Map();
  for (const pair of cookieHeader === '' ? [] : cookieHeader.split('; '))
    jar.set(pair.slice(0, pair.indexOf('=')), pair);
  for (const line of setCookies) {
    const pair = cookiePairOf(line);
    const name = pair.slice(0, pair.indexOf('='));
    if (/;\s*max-age=0(;|$)/i.test(line)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

/**
 * Browsers of many users: `cookieHeaders[user]` is what user `user` sends first. `next()` draws
 * the next user of the seeded Zipf sequence; `receive(user, setCookies)` stores what the server
 * answered, so that user's next request sends its newest cookie.
 *
 * @param cookieHeaders - each user's first `Cookie` header (the array is copied)
 * @param options - `exponent`, `seed`, `sequenceLength` (defaults: {@link trafficSettings})
 */
export function createBrowsers(cookieHeaders, options = {}) {
  const jar = [...cookieHeaders];
  const sequence = zipfSequence(
    jar.length,
    options.exponent ?? trafficSettings.zipfExponent,
    options.sequenceLength ?? trafficSettings.sequenceLength,
    options.seed ?? trafficSettings.seed,
  );
  let position = 0;
  return {
    users: jar.length,
    next: () => sequence[position++ % sequence.length],
    cookieOf: (user) => jar[user],
    receive(user, setCookies) {
      jar[user] = applySetCookies(jar[user], setCookies);
    },
  };
}

/** One browser sending `cookieHeader` on every request, whatever the server answers (the secondary row). */
export function createOneCookieBrowser(cookieHeader) {
  return {
    users: 1,
    next: () => 0,
    cookieOf: () => cookieHeader,
    receive() {},
  };
}

/** Each user's first cookie: `mint(user)` for users 0 .. count-1, in order (minting may be async). */
export async function mintCookies(count, mint) {
  const cookies = new Array(count);
  for (let user = 0; user < count; user++) cookies[user] = await mint(user);
  return cookies;
}
