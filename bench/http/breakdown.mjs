// Where sessionkit's time goes on the unchanged-session path, stage by stage, outside Astro: the
// same calls the Astro middleware (src/astro/middleware.ts handleRequest) makes for a signed-in
// GET whose session does not change, on the library's public building blocks from dist/.
//
//   npx node bench/http/breakdown.mjs     (the library must be built)
//
// Each stage runs 64 at a time (like the cookie suite), mitata, median of 5 rounds; µs per request.
// The stages are not exactly additive (shared warm caches, GC), so "whole path" is measured too.
import { randomBytes } from 'node:crypto';
import { measure } from 'mitata';
import { createCsrfProtection } from '../../dist/csrf.js';
import { createGuard } from '../../dist/guard.js';
import { createSessionManager } from '../../dist/index.js';
import { createAsyncLocalContextStore } from '../../dist/server.js';
import { median } from '../support/ratios.mjs';
import { sessionData } from './apps/shared/payload.mjs';

const inFlight = 64;
const manager = createSessionManager({ secrets: randomBytes(32).toString('base64url') });
const csrf = createCsrfProtection({ keyRing: manager.keyRing, maxAgeSeconds: manager.expiry.idleTimeoutSeconds });
const guard = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }], loginPath: '/login' });
const contextStore = createAsyncLocalContextStore();

const first = await manager.load(null);
for (const [key, value] of Object.entries(sessionData())) first.session.set(key, value);
const cookie = (await manager.commit(first.session))[0].split(';')[0];
const request = new Request('http://127.0.0.1:4321/', {
  headers: { cookie, accept: 'text/html,application/xhtml+xml', 'user-agent': 'autocannon' },
});
const { session } = await manager.load(request);
const html =
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>sessionkit bench</title></head><body><h1>Dashboard</h1><p>Signed in as <strong>u_7f3a9c2e41b8</strong>.</p></body></html>';

const stages = {
  'manager.load(request) (cookie parse, AES-GCM open, JSON, checks)': async () => manager.load(request),
  'csrf.issueToken(id) (16-byte nonce, HMAC-SHA256, base64url)': async () => csrf.issueToken(session.id),
  'guard.decide() (1 rule, path /)': async () =>
    guard.decide({
      session: session.data,
      path: '/',
      method: 'GET',
      routePattern: '/',
      accept: request.headers.get('accept'),
      contentType: request.headers.get('content-type'),
    }),
  'new URL(request.url).pathname (raw-path reading in decideRequest)': async () => new URL(request.url).pathname,
  'manager.commit(unchanged) → []': async () => manager.commit(session),
  'AsyncLocalStorage run(state, next)': async () => contextStore.run({}, async () => 1),
  'response headers (mutable probe, cache-control, vary)': async () => {
    const response = new Response(html, { headers: { 'content-type': 'text/html' } });
    response.headers.set('x-sessionkit-probe', '1');
    response.headers.delete('x-sessionkit-probe');
    if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'private, no-store');
    response.headers.append('vary', 'Cookie');
    return response;
  },
  'baseline: new Response(html) alone': async () => new Response(html, { headers: { 'content-type': 'text/html' } }),
  'whole path (all of the above in sequence)': async () => {
    const loaded = await manager.load(request);
    const token = await csrf.issueToken(loaded.session.id);
    const state = { session: loaded.session, csrfToken: token };
    guard.decide({ session: loaded.session.data, path: '/', method: 'GET', routePattern: '/', accept: null });
    void new URL(request.url).pathname;
    const response = await contextStore.run(
      state,
      async () => new Response(html, { headers: { 'content-type': 'text/html' } }),
    );
    await manager.commit(loaded.session);
    response.headers.set('x-sessionkit-probe', '1');
    response.headers.delete('x-sessionkit-probe');
    response.headers.set('cache-control', 'private, no-store');
    response.headers.append('vary', 'Cookie');
    return response;
  },
};

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const samples = Object.fromEntries(Object.keys(stages).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, op] of Object.entries(stages)) {
    const stats = await measure(
      async () => {
        const pending = new Array(inFlight);
        for (let index = 0; index < inFlight; index++) pending[index] = op();
        await Promise.all(pending);
      },
      { min_cpu_time: 200 * 1e6, inner_gc: false },
    );
    samples[name].push(stats.avg / inFlight / 1000);
  }
}
process.stdout.write(`node ${process.version}, ${inFlight} in flight, median of ${rounds} rounds\n\n`);
process.stdout.write('| stage | µs / request |\n| --- | ---: |\n');
for (const [name, values] of Object.entries(samples)) {
  process.stdout.write(`| ${name} | ${median(values).toFixed(2)} |\n`);
}
