// The load generator of the HTTP suite, one process for the whole run (its own CPU time, and no
// process start between runs, so runs can be short and many). It reads one JSON job per line on
// stdin, runs them one at a time, and answers on stdout with JSON lines:
//   {"id":1,"phase":"measuring"}  when the measured part starts (the orchestrator samples the
//                                  server's CPU time then)
//   {"id":1,"phase":"measured"}   when it ends
//   {"id":1,"phase":"done",...}   the result
// A job: {"id":1,"url":"http://127.0.0.1:4321/","cookiesFile":"/tmp/.../cookie.json",
//         "traffic":"users","connections":50,"warmupSeconds":1,"durationSeconds":2,
//         "expectBody":"<!DOCTYPE html>..."}. The process exits when stdin ends.
//
// Traffic (bench/support/traffic.mjs): `cookiesFile` is a JSON array of the signed-in users'
// Cookie headers (megabytes for 10,000 users, so it comes as a file, read once). "users": every
// request carries the cookie of the user drawn next from the seeded Zipf sequence, and a response
// with Set-Cookie replaces that user's cookie; "one": the first user's cookie on every request. The
// browsers of a (file, traffic) pair live for the whole process, so the Zipf sequence and the
// cookie jar carry on from one run to the next. Both models go through the same per-request code
// (autocannon's setupRequest / onResponse), so the load generator does the same work for both.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { createBrowsers, createOneCookieBrowser } from '../support/traffic.mjs';

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Browsers per `${cookiesFile}\n${traffic}`, kept for the whole process. */
const browsersByTraffic = new Map();

function browsersFor(cookiesFile, traffic) {
  const key = `${cookiesFile}\n${traffic}`;
  if (!browsersByTraffic.has(key)) {
    const cookies = JSON.parse(readFileSync(cookiesFile, 'utf8'));
    if (!Array.isArray(cookies) || cookies.length === 0) throw new Error(`${cookiesFile}: no cookies`);
    if (traffic === 'users') browsersByTraffic.set(key, createBrowsers(cookies));
    else if (traffic === 'one') browsersByTraffic.set(key, createOneCookieBrowser(cookies[0]));
    else throw new Error(`unknown traffic "${traffic}" (users or one)`);
  }
  return browsersByTraffic.get(key);
}

/** The Set-Cookie lines of autocannon's response headers (raw names, so any case; one or many values). */
function setCookiesOf(headers) {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'set-cookie') return [headers[name]].flat();
  }
  return [];
}

/**
 * One autocannon run with `browsers`: each request (one connection has one request in flight, so
 * the connection's context holds the user of the request it waits for) sends the drawn user's
 * cookie; each response's Set-Cookie lines go back to that user's browser. Resolves autocannon's
 * result and how many responses carried Set-Cookie.
 */
async function run(options, browsers) {
  let setCookieResponses = 0;
  const request = {
    setupRequest(req, context) {
      const user = browsers.next();
      context.user = user;
      const cookie = browsers.cookieOf(user);
      if (cookie === '') delete req.headers.cookie;
      else req.headers.cookie = cookie;
      return req;
    },
    onResponse(_status, _body, context, headers) {
      const setCookies = setCookiesOf(headers);
      if (setCookies.length === 0) return;
      setCookieResponses++;
      browsers.receive(context.user, setCookies);
    },
  };
  const result = await autocannon({ ...options, requests: [request] });
  return { result, setCookieResponses };
}

async function runJob(job) {
  const { id, url, cookiesFile, traffic, connections = 50, warmupSeconds = 1, durationSeconds = 2, expectBody } = job;
  const browsers = browsersFor(cookiesFile, traffic);
  // Every response must be exactly the signed-in page (a guest page counts as a mismatch). autocannon
  // refuses its expectBody option next to `requests`, so the same comparison goes in verifyBody.
  const verifyBody = expectBody === undefined ? undefined : (body) => body === expectBody;
  const common = { url, connections, pipelining: 1, ...(verifyBody === undefined ? {} : { verifyBody }) };
  const warmup = warmupSeconds > 0 ? await run({ ...common, duration: warmupSeconds }, browsers) : undefined;
  send({ id, phase: 'measuring' });
  const { result, setCookieResponses } = await run({ ...common, duration: durationSeconds }, browsers);
  send({ id, phase: 'measured' });
  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, Number(count)]),
  );
  send({
    id,
    phase: 'done',
    traffic,
    users: browsers.users,
    requests: result.requests.total,
    warmupRequests: warmup?.result.requests.total ?? 0,
    durationSeconds: result.duration,
    rps: result.requests.total / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.average,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches ?? 0,
    // Responses that carried Set-Cookie (the measured page never changes the session, so 0).
    setCookieResponses,
    warmupSetCookieResponses: warmup?.setCookieResponses ?? 0,
    statusCounts,
    bytesPerResponse: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== '') await runJob(JSON.parse(line));
}
