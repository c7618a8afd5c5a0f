// The HTTP suite's apps (bench/http/apps/<name>), shared by the HTTP suite (one server process per
// app) and the page suite (every app in one process): the variants, building them, and the Redis
// some of them need.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { childEnv } from '../../test/support/child-env.ts';
import { ensureRedis, redisAnswers } from '../../test/support/services.ts';
import { payload } from './apps/shared/payload.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const astroBin = join(repoRoot, 'node_modules', 'astro', 'bin', 'astro.mjs');

/** Where the apps live. */
export const appsRoot = fileURLToPath(new URL('./apps/', import.meta.url));

/**
 * The variants. label: shown in tables; app: the app directory when not the name; needsRedis:
 * skipped (and reported) when Redis cannot be reached; sessionless: no session library;
 * diagnostic: only when named in BENCH_HTTP_VARIANTS / BENCH_PAGE_VARIANTS.
 */
export const allVariants = [
  { name: 'bare', label: 'bare Astro', sessionless: true },
  // A second server of the bare app, measured like any variant: what the method reports for no difference.
  { name: 'bare-control', app: 'bare', label: 'bare Astro, second server (control)', sessionless: true },
  { name: 'cookie', label: 'sessionkit cookie' },
  { name: 'sqlite', label: 'sessionkit SQLite' },
  { name: 'sqlite-raw', label: 'raw node:sqlite (floor)' },
  { name: 'redis', label: 'sessionkit Redis', needsRedis: true },
  { name: 'redis-raw', label: 'raw ioredis (floor)', needsRedis: true },
  { name: 'iron', label: 'iron-session 9' },
  // Diagnostics: where the cookie mode's cost comes from.
  { name: 'noop-middleware', label: 'bare + 2 pass-through middlewares', diagnostic: true, sessionless: true },
  { name: 'cookie-nocsrf', label: 'sessionkit cookie, CSRF off', diagnostic: true },
];

/** The variants named in `list` (comma-separated), or the non-diagnostic ones when it is undefined. */
export function selectVariants(list) {
  const wanted = list?.split(',').map((name) => name.trim());
  return allVariants.filter((variant) => (wanted === undefined ? !variant.diagnostic : wanted.includes(variant.name)));
}

/**
 * The environment every app reads: fresh secrets for sessionkit and iron-session, and the Redis
 * port and key prefix of the Redis variants.
 */
export function appsEnv(redisPort, redisPrefix) {
  return {
    SESSIONKIT_SECRET: randomBytes(32).toString('base64url'),
    BENCH_IRON_PASSWORD: randomBytes(32).toString('base64url'),
    BENCH_REDIS_PORT: String(redisPort),
    BENCH_REDIS_PREFIX: redisPrefix,
  };
}

/** Makes `import 'sessionkit/...'` in the apps resolve to this repository (like the test fixtures). */
export function linkPackage() {
  if (!existsSync(join(repoRoot, 'dist', 'index.js'))) throw new Error('Build the library first: npm run build');
  const modules = join(appsRoot, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = join(modules, 'sessionkit');
  if (!existsSync(link)) symlinkSync('../../../..', link, 'dir');
}

function build(name) {
  return new Promise((resolve, reject) => {
    const root = join(appsRoot, name);
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    const child = spawn(process.execPath, [astroBin, 'build', '--root', root], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`astro build ${name} failed (${code}):\n${output}`)),
    );
  });
}

/** Builds the named apps two at a time (the machine has few cores; builds are CPU-bound). */
export async function buildAll(names, log) {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const started = Date.now();
      await build(name);
      log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  };
  await Promise.all([worker(), worker()]);
}

/** True when the built server of app `name` exists. */
export function isBuilt(name) {
  return existsSync(join(appsRoot, name, 'dist', 'server', 'entry.mjs'));
}

/**
 * `variants` without the ones that need Redis when Redis cannot be reached on `port`, and why
 * those were skipped (the suites report it).
 */
export async function runnableVariants(variants, port, log) {
  if (!variants.some((variant) => variant.needsRedis) || (await redisReady(port, log))) {
    return { variants, skipped: [] };
  }
  return {
    variants: variants.filter((variant) => !variant.needsRedis),
    skipped: variants
      .filter((variant) => variant.needsRedis)
      .map((variant) => ({ variant: variant.name, reason: `Redis does not answer on 127.0.0.1:${port}` })),
  };
}

/** True when Redis answers on `port`; the shared 6379 one is started the tests' way if not. */
async function redisReady(port, log) {
  if (redisAnswers(port)) return true;
  if (port !== 6379) return false;
  log('redis-cli ping failed: starting redis-server on 127.0.0.1:6379');
  try {
    await ensureRedis();
    return true;
  } catch (error) {
    log(error.message);
    return false;
  }
}

/** Deletes the keys under `prefix` that a run left in Redis. */
export async function removeRedisKeys(port, prefix, log) {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    log(`could not clean up Redis keys ${prefix}*: ${error.message}`);
  } finally {
    client.disconnect();
  }
}

/**
 * Signs in once (`POST /login` from `origin`) and returns the cookie header the user then sends.
 * Sessionless variants get a cookie header of the size sessionkit's cookie mode sends (which they
 * ignore, so nothing is posted), so every variant parses requests of about the same size.
 */
export async function signIn(variant, send, origin) {
  if (variant.sessionless) return `__Host-session=v1.${randomBytes(285).toString('base64url')}`;
  const login = await send('POST', '/login', { 'content-type': 'application/json', origin }, '{}');
  if (login.status !== 200) throw new Error(`${variant.name}: sign-in answered ${login.status}`);
  const cookie = login.setCookies.map((line) => line.split(';')[0]).join('; ');
  if (cookie === '') throw new Error(`${variant.name}: sign-in set no cookie`);
  return cookie;
}

/**
 * Signs in once (`POST /login` from `origin`) and checks that the request the suites measure is
 * the unchanged-session path: the signed-in page (requested with `pageHeaders` and the cookie)
 * shows the user and answers without `Set-Cookie`, and with a session library a request without
 * the cookie is a guest. `send(method, path, headers, body)` carries one request and answers
 * `{ status, text, setCookies }`. Returns the cookie header the suite sends and the page's HTML.
 */
export async function signInAndCheck(variant, send, origin, pageHeaders = {}) {
  const cookie = await signIn(variant, send, origin);
  const page = await send('GET', '/', { ...pageHeaders, cookie });
  if (page.status !== 200 || !page.text.includes(payload.userId)) {
    throw new Error(`${variant.name}: the signed-in page does not show the user (${page.status}):\n${page.text}`);
  }
  if (page.setCookies.length > 0) {
    throw new Error(`${variant.name}: an unchanged session must not answer with Set-Cookie`);
  }
  if (!variant.sessionless) {
    const guest = await send('GET', '/', { ...pageHeaders });
    if (!guest.text.includes('guest')) throw new Error(`${variant.name}: a request without the cookie is not a guest`);
  }
  return { cookie, html: page.text };
}
