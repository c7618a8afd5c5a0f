// sessionkit's Astro middleware alone, in one process: what it adds per request to a signed-in GET
// whose session does not change, against a pass-through middleware rendering the same page. It
// runs the built middleware (dist/astro/middleware.js) with the HTTP suite's `cookie` app options
// on request contexts shaped like Astro's (request, url, locals, routePattern), and a page that
// reads the session with `getSession()` from the request context, as that app's page does.
// Unlike the HTTP suite it has no network and no second process, so it moves by a few percent
// between runs instead of tens: it sizes sessionkit's own share of the HTTP suite's difference.
//
//   npx node --import ./bench/http/middleware-hooks.mjs bench/http/middleware.bench.mjs
//     (bench/run.mjs runs it so; the library must be built)
//
// Traffic (bench/support/traffic.mjs): 10,000 users with cookies sealed beforehand by another
// manager, drawn by seeded Zipf(1.0) popularity, each browser keeping the newest cookie it is given
// (the headline); then one cookie every time (secondary).
//
// Environment: BENCH_OUT (JSON file), BENCH_ROUNDS (10 interleaved rounds), BENCH_REQUESTS (20000
// per round, side and traffic model), 32 requests in flight.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { median, quantile } from '../support/ratios.mjs';
import { createBrowsers, createOneCookieBrowser, mintCookies, trafficSettings } from '../support/traffic.mjs';
import { payload, sessionData } from './apps/shared/payload.mjs';

process.env.SESSIONKIT_SECRET = randomBytes(32).toString('base64url');
const { onRequest } = await import('../../dist/astro/middleware.js');
const { getSession } = await import('../../dist/server.js');
const { createSessionManager } = await import('../../dist/index.js');

const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const requestsPerRound = Number(process.env.BENCH_REQUESTS ?? 20_000);
const users = trafficSettings.users;
const inFlight = 32;

// Cookies sealed with the same secret and the default cookie settings the middleware uses, by a
// manager of their own (so the middleware's starts with nothing remembered).
const manager = createSessionManager({ secrets: process.env.SESSIONKIT_SECRET });
const cookies = await mintCookies(users, async (user) => {
  const { session } = await manager.load(null);
  for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
  session.set('userId', `${payload.userId}_${user}`);
  return (await manager.commit(session))[0].split(';')[0];
});
const pageHeaders = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'autocannon',
};
const render = (userId) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>sessionkit bench</title></head><body><h1>Dashboard</h1><p>Signed in as <strong>${userId ?? 'guest'}</strong>.</p></body></html>`;
const htmlHeaders = { 'content-type': 'text/html' };

function context(cookie) {
  const request = new Request('http://127.0.0.1:4321/', { headers: { ...pageHeaders, cookie } });
  return { request, url: new URL(request.url), locals: {}, routePattern: '/', isPrerendered: false };
}
const sessionPage = async () => new Response(render(getSession()?.userId), { headers: htmlHeaders });
const barePage = async () => new Response(render(payload.userId), { headers: htmlHeaders });
const sides = {
  'pass-through': (requestContext) => barePage(requestContext),
  sessionkit: (requestContext) => onRequest(requestContext, sessionPage),
};

// The path measured must be the unchanged-session one: the user shown, nothing written.
{
  const response = await sides.sessionkit(context(cookies[0]));
  const body = await response.text();
  if (!body.includes(`${payload.userId}_0`) || response.headers.getSetCookie().length > 0) {
    throw new Error(`the middleware did not serve the signed-in page unchanged:\n${body}`);
  }
}

/** Mean µs per request of one side over `count` requests from `browsers`, `inFlight` at a time. */
async function run(side, browsers, count) {
  const started = process.hrtime.bigint();
  for (let done = 0; done < count; done += inFlight) {
    const batch = [];
    for (let index = 0; index < inFlight; index++) {
      const user = browsers.next();
      batch.push(
        side(context(browsers.cookieOf(user))).then((response) => {
          browsers.receive(user, response.headers.getSetCookie());
          return response.text();
        }),
      );
    }
    await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - started) / 1e3 / count;
}

const traffics = {
  [`${users} users`]: () => createBrowsers(cookies),
  'one cookie': () => createOneCookieBrowser(cookies[0]),
};
const rows = [];
for (const [traffic, browsersOf] of Object.entries(traffics)) {
  const browsers = { 'pass-through': browsersOf(), sessionkit: browsersOf() };
  for (let warm = 0; warm < 2; warm++) {
    for (const [name, side] of Object.entries(sides)) await run(side, browsers[name], requestsPerRound / 4);
  }
  const samples = { 'pass-through': [], sessionkit: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['pass-through', 'sessionkit'] : ['sessionkit', 'pass-through'];
    for (const name of order) samples[name].push(await run(sides[name], browsers[name], requestsPerRound));
  }
  const extra = samples.sessionkit.map((micros, round) => micros - samples['pass-through'][round]);
  rows.push({
    traffic,
    passThroughMicros: median(samples['pass-through']),
    sessionkitMicros: median(samples.sessionkit),
    extraMicros: median(extra),
    extraMicrosMiddleHalf: [quantile(extra, 0.25), quantile(extra, 0.75)],
    samples,
  });
}
const result = {
  suite: 'middleware',
  date: new Date().toISOString(),
  settings: { rounds, requestsPerRound, inFlight, users, zipfExponent: trafficSettings.zipfExponent },
  rows,
};
console.table(
  rows.map((row) => ({
    traffic: row.traffic,
    'pass-through µs': row.passThroughMicros.toFixed(2),
    'sessionkit µs': row.sessionkitMicros.toFixed(2),
    'sessionkit adds µs': row.extraMicros.toFixed(2),
  })),
);
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
