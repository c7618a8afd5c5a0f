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
// Environment: BENCH_OUT (JSON file), BENCH_ROUNDS (10 interleaved rounds), BENCH_REQUESTS (40000
// per round and side), 32 requests in flight.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { payload, sessionData } from './apps/shared/payload.mjs';
import { median } from './support.mjs';

process.env.SESSIONKIT_SECRET = randomBytes(32).toString('base64url');
const { onRequest } = await import('../../dist/astro/middleware.js');
const { getSession } = await import('../../dist/server.js');
const { createSessionManager } = await import('../../dist/index.js');

const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const requestsPerRound = Number(process.env.BENCH_REQUESTS ?? 40_000);
const inFlight = 32;

// A cookie sealed with the same secret and the default cookie settings the middleware uses.
const manager = createSessionManager({ secrets: process.env.SESSIONKIT_SECRET });
const { session } = await manager.load(null);
for (const [key, value] of Object.entries(sessionData())) session.set(key, value);
const cookie = (await manager.commit(session))[0].split(';')[0];
const headers = {
  cookie,
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'autocannon',
};
const render = (userId) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>sessionkit bench</title></head><body><h1>Dashboard</h1><p>Signed in as <strong>${userId ?? 'guest'}</strong>.</p></body></html>`;
const htmlHeaders = { 'content-type': 'text/html' };

function context() {
  const request = new Request('http://127.0.0.1:4321/', { headers });
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
  const response = await sides.sessionkit(context());
  const body = await response.text();
  if (!body.includes(payload.userId) || response.headers.getSetCookie().length > 0) {
    throw new Error(`the middleware did not serve the signed-in page unchanged:\n${body}`);
  }
}

/** Mean µs per request of one side over `count` requests, `inFlight` at a time. */
async function run(side, count) {
  const started = process.hrtime.bigint();
  for (let done = 0; done < count; done += inFlight) {
    const batch = [];
    for (let index = 0; index < inFlight; index++) batch.push(side(context()).then((response) => response.text()));
    await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - started) / 1e3 / count;
}

for (let warm = 0; warm < 3; warm++) {
  for (const side of Object.values(sides)) await run(side, requestsPerRound / 4);
}
const samples = { 'pass-through': [], sessionkit: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['pass-through', 'sessionkit'] : ['sessionkit', 'pass-through'];
  for (const name of order) samples[name].push(await run(sides[name], requestsPerRound));
}
const extra = samples.sessionkit.map((micros, round) => micros - samples['pass-through'][round]);
const result = {
  suite: 'middleware',
  date: new Date().toISOString(),
  settings: { rounds, requestsPerRound, inFlight },
  passThroughMicros: median(samples['pass-through']),
  sessionkitMicros: median(samples.sessionkit),
  extraMicros: median(extra),
  extraMicrosRange: [Math.min(...extra), Math.max(...extra)],
  samples,
};
console.table([
  { side: 'pass-through + page', 'µs / request': result.passThroughMicros.toFixed(2) },
  { side: 'sessionkit middleware + page', 'µs / request': result.sessionkitMicros.toFixed(2) },
  { side: 'sessionkit adds (median of rounds)', 'µs / request': result.extraMicros.toFixed(2) },
]);
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
