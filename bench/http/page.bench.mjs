// Page suite: the HTTP suite's built apps (bench/http/apps), driven through their own
// @astrojs/node request handler without a network. Each variant gets a process of its own holding
// two apps, the bare one and the variant's. Each request is a real Node IncomingMessage /
// ServerResponse pair on a socket that discards what is written, so a request runs everything the
// server runs for it (static-file check, Request construction, Astro's middleware chain and page
// rendering, the session library, writing the response) except the TCP socket and the HTTP
// parser, which cost the same for every variant.
//
// Why: on a shared machine the speed of a whole process drifts by tens of percent between seconds,
// so servers measured one after another (the HTTP suite) disagree by more than sessionkit costs.
// Here the variant and the bare page run in alternating blocks in one process on one CPU, and each
// block of the variant is compared with the bare block right next to it: both see the same machine
// (the A/A control row shows what is left of the noise).
//
//   npx node bench/http/page.bench.mjs     (bench/run.mjs runs it after the HTTP suite, whose
//                                           builds it reuses; it builds any that are missing)
//
// Traffic (bench/support/traffic.mjs): the headline rows have 10,000 users signed in beforehand,
// chosen by seeded Zipf(1.0) popularity, each browser sending back the newest cookie it was given;
// the secondary rows send the first user's cookie every time (what a cache of opened cookies
// makes free). bare-control (a second copy of the bare app) is the A/A control.
//
// Environment: BENCH_OUT (JSON file), BENCH_PAGE_ROUNDS (10), BENCH_PAGE_BLOCK (2000 requests per
// variant, traffic model and round), BENCH_PAGE_VARIANTS (comma list; as BENCH_HTTP_VARIANTS),
// BENCH_PAGE_USERS (10,000), BENCH_PIN=0 (do not pin the main thread to CPU 1).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, quantile, verdictOf } from '../support/ratios.mjs';
import { createBrowsers, createOneCookieBrowser, trafficSettings } from '../support/traffic.mjs';
import {
  allVariants,
  appsEnv,
  appsRoot,
  buildAll,
  isBuilt,
  linkPackage,
  removeRedisKeys,
  runnableVariants,
  selectVariants,
  signIn,
  signInAndCheck,
} from './apps.mjs';
import { pinMainThread } from './support.mjs';

const settings = {
  rounds: Number(process.env.BENCH_PAGE_ROUNDS ?? 10),
  blockRequests: Number(process.env.BENCH_PAGE_BLOCK ?? 2000),
  inFlight: 32,
  warmupBlocks: 2,
  users: Number(process.env.BENCH_PAGE_USERS ?? trafficSettings.users),
  zipfExponent: trafficSettings.zipfExponent,
};
const host = '127.0.0.1:4321';
const redisPort = Number(process.env.BENCH_REDIS_PORT ?? 6379);
const redisPrefix = `bench17:page:${process.pid}:`;

function log(message) {
  process.stderr.write(`[page] ${message}\n`);
}

/** A socket that accepts and discards everything the response writes. */
class DiscardingSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  remotePort = 50_000;
  _read() {}
  _write(_chunk, _encoding, callback) {
    callback();
  }
}

/** A request for `handler` and its response, on a socket that discards what is written. */
function exchange(method, path, headers, body) {
  const socket = new DiscardingSocket();
  const request = new IncomingMessage(socket);
  request.method = method;
  request.url = path;
  request.headers = { host, ...headers };
  request.rawHeaders = Object.entries(request.headers).flat();
  if (body !== undefined) request.push(body);
  request.push(null);
  const response = new ServerResponse(request);
  response.assignSocket(socket);
  return { request, response };
}

/**
 * Runs one request through a Node request handler; resolves with the status, the headers the
 * handler wrote and the body (for the checks before measuring).
 */
function serve(handler, method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const { request, response } = exchange(method, path, headers, body);
    let writtenHeaders = {};
    let text = '';
    const writeHead = response.writeHead.bind(response);
    response.writeHead = (status, ...rest) => {
      writtenHeaders = rest.find((entry) => entry !== null && typeof entry === 'object') ?? {};
      return writeHead(status, ...rest);
    };
    const write = response.write.bind(response);
    response.write = (chunk, ...rest) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return write(chunk, ...rest);
    };
    const end = response.end.bind(response);
    response.end = (chunk, ...rest) => {
      if (chunk !== undefined && typeof chunk !== 'function') {
        text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      }
      const result = end(chunk, ...rest);
      resolve({ status: response.statusCode, headers: { ...response.getHeaders(), ...writtenHeaders }, text });
      return result;
    };
    try {
      handler(request, response);
    } catch (error) {
      reject(error);
    }
  });
}

/** Runs one measured `GET path`: resolves its `Set-Cookie` lines when the response is finished, reading nothing else. */
function serveUnread(handler, path, headers) {
  return new Promise((resolve, reject) => {
    const { request, response } = exchange('GET', path, headers);
    response.once('finish', () => resolve([response.getHeader('set-cookie') ?? []].flat()));
    try {
      handler(request, response);
    } catch (error) {
      reject(error);
    }
  });
}

const pageHeaders = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'sessionkit-bench' };

/**
 * Signs in `settings.users` users on the app behind `handler` (the first one checked: the measured
 * request is the signed-in, unchanged-session page) and returns the browsers of both traffic
 * models: `users` (Zipf over every user, each keeping its newest cookie) and `one` (the first
 * user's cookie, every time).
 */
async function signInUsers(variant, handler) {
  const send = async (method, path, headers, body) => {
    const contentLength = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const answer = await serve(handler, method, path, { ...headers, ...contentLength }, body);
    return { status: answer.status, text: answer.text, setCookies: [answer.headers['set-cookie'] ?? []].flat() };
  };
  const origin = `http://${host}`;
  const cookies = [(await signInAndCheck(variant, send, origin, pageHeaders)).cookie];
  let next = 1;
  const worker = async () => {
    while (next < settings.users) cookies[next++] = await signIn(variant, send, origin);
  };
  await Promise.all(Array.from({ length: settings.inFlight }, worker));
  return { users: createBrowsers(cookies), one: createOneCookieBrowser(cookies[0]) };
}

/** Mean µs per request of `count` requests to `/`, `inFlight` at a time, from `browsers`. */
async function block(handler, browsers, count) {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const user = browsers.next();
      browsers.receive(user, await serveUnread(handler, '/', { ...pageHeaders, cookie: browsers.cookieOf(user) }));
    }
  };
  const begin = process.hrtime.bigint();
  await Promise.all(Array.from({ length: settings.inFlight }, worker));
  return Number(process.hrtime.bigint() - begin) / 1e3 / count;
}

/**
 * One pair, in its own process (BENCH_PAGE_PAIR=<variant>): the bare app and the variant's app,
 * loaded and signed in, then warmed up, then `rounds` pairs of blocks. Writes the blocks' µs per
 * request to BENCH_PAGE_PAIR_OUT.
 */
async function measurePair(name) {
  const variant = allVariants.find((entry) => entry.name === name);
  const bareVariant = allVariants.find((entry) => entry.name === 'bare');
  // The control reads the bare app against itself: the same handler on both sides.
  const handlers = new Map();
  const load = async (app) => {
    if (!handlers.has(app)) {
      process.env.BENCH_SQLITE_FILE = join(process.env.BENCH_PAGE_SCRATCH, `${app}.db`);
      const entry = pathToFileURL(join(appsRoot, app, 'dist', 'server', 'entry.mjs')).href;
      handlers.set(app, (await import(entry)).handler);
    }
    return handlers.get(app);
  };
  const bareHandler = await load('bare');
  const bare = { handler: bareHandler, browsers: await signInUsers(bareVariant, bareHandler) };
  const variantHandler = await load(variant.app ?? variant.name);
  const target = { handler: variantHandler, browsers: await signInUsers(variant, variantHandler) };
  // The main thread on CPU 1, like the HTTP suite's servers, once the apps have started their
  // helper threads (libuv's pool starts on first use): those keep running on any CPU.
  const pinned = pinMainThread(process.pid, 1);
  const traffics = ['users', 'one'];
  for (let warm = 0; warm < settings.warmupBlocks; warm++) {
    for (const traffic of traffics) {
      for (const side of [bare, target]) await block(side.handler, side.browsers[traffic], settings.blockRequests);
    }
  }
  const measured = Object.fromEntries(traffics.map((traffic) => [traffic, { samples: [], neighbours: [] }]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const traffic of traffics) {
      // Bare first in even rounds, second in odd ones.
      const [first, second] = round % 2 === 0 ? [bare, target] : [target, bare];
      const firstMicros = await block(first.handler, first.browsers[traffic], settings.blockRequests);
      const secondMicros = await block(second.handler, second.browsers[traffic], settings.blockRequests);
      measured[traffic].neighbours.push(round % 2 === 0 ? firstMicros : secondMicros);
      measured[traffic].samples.push(round % 2 === 0 ? secondMicros : firstMicros);
    }
  }
  writeFileSync(process.env.BENCH_PAGE_PAIR_OUT, JSON.stringify({ ...measured, pinned }));
}

/** Runs `measurePair` for `variant` in a child process and returns what it wrote. */
function runPair(variant, env, scratch) {
  const out = join(scratch, `${variant.name}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, ...env, BENCH_PAGE_PAIR: variant.name, BENCH_PAGE_PAIR_OUT: out },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(readFileSync(out, 'utf8'))) : reject(new Error(`${variant.name}: exit ${code}`)),
    );
  });
}

/**
 * The rows of one traffic model (`users` or `one`) from every pair's blocks: each variant's
 * per-round speed relative to its bare neighbour (bare-control is the A/A control).
 */
function rowsOf(variants, pairs, traffic, label) {
  const samples = { bare: Object.values(pairs).flatMap((pair) => pair[traffic].neighbours) };
  const neighbours = {};
  for (const [name, pair] of Object.entries(pairs)) {
    samples[name] = pair[traffic].samples;
    neighbours[name] = pair[traffic].neighbours;
  }
  /** Per round: `name`'s µs per request over its bare neighbour's (1 / its requests/s ratio to bare). */
  const relativeCost = (name) => samples[name].map((micros, round) => micros / neighbours[name][round]);
  /** Per round: `reference`'s relative cost over `name`'s (a requests/s ratio). */
  const roundRatios = (name, reference) => {
    if (samples[name] === undefined || samples[reference] === undefined) return null;
    const theirs = reference === 'bare' ? null : relativeCost(reference);
    const mine = name === 'bare' ? theirs.map(() => 1) : relativeCost(name);
    if (theirs === null) return mine.map((cost) => 1 / cost);
    return mine.map((cost, round) => theirs[round] / cost);
  };
  const floors = { sqlite: 'sqlite-raw', redis: 'redis-raw' };
  return variants.map((variant) => {
    const ratios = variant.name === 'bare' ? null : roundRatios(variant.name, 'bare');
    const floorRatios = variant.name in floors ? roundRatios(floors[variant.name], variant.name) : null;
    return {
      traffic: label,
      variant: variant.name,
      label: variant.label,
      microsPerRequest: Number(median(samples[variant.name]).toFixed(1)),
      // Each pair runs in its own process at its own time: its bare blocks are its reference.
      bareNeighbourMicros: variant.name === 'bare' ? null : Number(median(neighbours[variant.name]).toFixed(1)),
      vsBare: variant.name === 'bare' ? 1 : median(ratios),
      vsBareQuartiles: ratios === null ? null : [quantile(ratios, 0.25), quantile(ratios, 0.75)],
      vsBareRounds: ratios,
      extraMicrosVsBare:
        variant.name === 'bare'
          ? 0
          : Number(
              median(samples[variant.name].map((micros, round) => micros - neighbours[variant.name][round])).toFixed(1),
            ),
      vsIron: 'iron' in samples ? median(roundRatios(variant.name, 'iron')) : null,
      floorVsThis: floorRatios === null ? null : median(floorRatios),
      floorVsThisQuartiles: floorRatios === null ? null : [quantile(floorRatios, 0.25), quantile(floorRatios, 0.75)],
      samples: samples[variant.name],
    };
  });
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) throw new Error(`Node ${process.versions.node}: run through npx/npm (Node 24).`);
  const selected = selectVariants(process.env.BENCH_PAGE_VARIANTS);
  if (!selected.some((variant) => variant.name === 'bare'))
    throw new Error('the page suite compares with bare: name it');
  const { variants, skipped } = await runnableVariants(selected, redisPort, log);
  linkPackage();
  const apps = [...new Set(variants.map((variant) => variant.app ?? variant.name))];
  const missing = apps.filter((name) => !isBuilt(name));
  if (missing.length > 0) await buildAll(missing, log);

  const scratch = mkdtempSync(join(tmpdir(), 'sessionkit-bench-page-'));
  const env = {
    ASTRO_NODE_AUTOSTART: 'disabled',
    HOST: '127.0.0.1',
    PORT: '4321',
    ...appsEnv(redisPort, redisPrefix),
    BENCH_PAGE_SCRATCH: scratch,
  };
  try {
    const pairs = {};
    let pinned = true;
    const loadBefore = loadavg();
    for (const variant of variants.filter((entry) => entry.name !== 'bare')) {
      const started = Date.now();
      pairs[variant.name] = await runPair(variant, env, scratch);
      pinned &&= pairs[variant.name].pinned;
      log(`${variant.name}: ${settings.rounds} rounds in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    const loadAfter = loadavg();
    const rows = [
      ...rowsOf(variants, pairs, 'users', `${settings.users} users`),
      ...rowsOf(variants, pairs, 'one', 'one cookie'),
    ];
    const cookieRow = rows.find((row) => row.variant === 'cookie' && row.traffic === `${settings.users} users`);
    const targets =
      cookieRow === undefined
        ? {}
        : { 'cookie-mode page, many users: vs bare': verdictOf(cookieRow.vsBareRounds, 0.9, 'at least') };
    const result = {
      suite: 'page',
      date: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        cpu: cpus()[0]?.model,
        node: process.version,
        pinned,
        loadAverage: { before: loadBefore.map((value) => Number(value.toFixed(2))), after: loadAfter },
      },
      settings,
      skipped,
      rows,
      targets,
    };
    console.table(
      rows.map((row) => ({
        traffic: row.traffic,
        variant: row.variant,
        'µs/req': row.microsPerRequest,
        vsBare: row.vsBare?.toFixed(3),
        'vsBare p25–p75': row.vsBareQuartiles?.map((value) => value.toFixed(3)).join('–'),
        'extra µs': row.extraMicrosVsBare,
        vsIron: row.vsIron?.toFixed(2),
        floorVsThis: row.floorVsThis?.toFixed(3),
      })),
    );
    console.table(targets);
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (variants.some((variant) => variant.needsRedis)) await removeRedisKeys(redisPort, redisPrefix, log);
  }
}

if (process.env.BENCH_PAGE_PAIR === undefined) {
  await main();
} else {
  await measurePair(process.env.BENCH_PAGE_PAIR);
  // The apps keep Redis connections and timers open: the pair is done.
  process.exit(0);
}
