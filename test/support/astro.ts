/**
 * Builds and serves real Astro 7 fixture apps (production build on @astrojs/node, or `astro dev`)
 * in child processes, for integration tests driven with `fetch`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from './child-env.ts';
import { addBrowserFetchSite } from './fetch-site.ts';
import { freePort } from './services.ts';

export { childEnv, freePort };

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixturesRoot = fileURLToPath(new URL('../fixtures/', import.meta.url));
const astroBin = `${repoRoot}node_modules/astro/bin/astro.mjs`;
// The platform's fetch, kept: a test may stand in for the global one (a page script's `fetch`).
const nativeFetch = globalThis.fetch;

/**
 * Makes `import 'sessionkit/...'` in the apps under `dir` (an absolute path ending in `/`) resolve to
 * this repository, like a workspace link: `dir/node_modules/sessionkit` points at the repository.
 */
export function linkPackageInto(dir: string): void {
  if (!existsSync(`${repoRoot}dist/index.js`)) throw new Error('Build the library first: npm run build');
  const modules = `${dir}node_modules`;
  mkdirSync(modules, { recursive: true });
  const link = `${modules}/sessionkit`;
  if (!existsSync(link)) symlinkSync(relative(modules, repoRoot) || '.', link, 'dir');
}

/** Makes `import 'sessionkit/...'` in fixtures resolve to this repository (like a workspace link). */
export function linkPackageIntoFixtures(): void {
  linkPackageInto(fixturesRoot);
}

/** Runs `astro build` for a fixture and returns its output; throws with the output on failure. */
export function buildFixture(name: string, env: Record<string, string> = {}): string {
  return buildApp(`${fixturesRoot}${name}`, env);
}

/** Runs `astro build` for the app at `root` (its parent folder linked with {@link linkPackageInto}). */
export function buildApp(root: string, env: Record<string, string> = {}): string {
  linkPackageInto(`${dirname(root)}/`);
  rmSync(`${root}/dist`, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [astroBin, 'build', '--root', root], {
    encoding: 'utf8',
    env: childEnv(env),
  });
  if (result.status !== 0) throw new Error(`astro build ${root} failed:\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}\n${result.stderr}`;
}

/** A running fixture server. */
export interface FixtureServer {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

async function waitForServer(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output()}`);
    try {
      await nativeFetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server at ${url} did not start in ${timeoutMs} ms:\n${output()}`);
}

/** Starts a server process (Node unless `command` names another program) and waits until it answers at `url`. */
export function startServerProcess(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  url: string,
  timeoutMs: number,
  command: string = process.execPath,
): Promise<FixtureServer> {
  const child = spawn(command, args, {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk) => {
    log += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    log += chunk;
  });
  const output = () => log;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return waitForServer(url, child, output, timeoutMs).then(
    () => ({ url, output, stop }),
    async (error) => {
      await stop();
      throw error;
    },
  );
}

/** Serves a built fixture with the @astrojs/node standalone server. */
export function serveBuiltFixture(name: string, env: Record<string, string> = {}): Promise<FixtureServer> {
  return serveBuiltApp(`${fixturesRoot}${name}`, env);
}

/** Serves the built app at `root` with the @astrojs/node standalone server. */
export async function serveBuiltApp(root: string, env: Record<string, string> = {}): Promise<FixtureServer> {
  const port = await freePort();
  return startServerProcess(
    [`${root}/dist/server/entry.mjs`],
    root,
    { HOST: '127.0.0.1', PORT: String(port), ...env },
    `http://127.0.0.1:${port}`,
    20_000,
  );
}

/** Runs `astro dev` for a fixture. */
export async function serveDevFixture(name: string, env: Record<string, string> = {}): Promise<FixtureServer> {
  linkPackageIntoFixtures();
  const port = await freePort();
  const root = `${fixturesRoot}${name}`;
  return startServerProcess(
    [astroBin, 'dev', '--root', root, '--port', String(port), '--host', '127.0.0.1'],
    root,
    env,
    `http://127.0.0.1:${port}`,
    60_000,
  );
}

/** A tiny cookie-keeping client for fixture servers. */
export class Browser {
  readonly #cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  /** Sends a request with the stored cookies, applies `Set-Cookie`, never follows redirects. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) headers.set('cookie', [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    // Concatenate instead of resolving, so paths such as `//admin` reach the server as written.
    const url = path.startsWith('/') ? `${this.base}${path}` : path;
    addBrowserFetchSite(headers, url);
    const response = await nativeFetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute));
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  /** The cookie header this client would send. */
  cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Drops all cookies. */
  clear(): void {
    this.#cookies.clear();
  }

  /** A stored cookie value. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Reads the CSRF token from a page's `<meta name="csrf-token">`. */
  async csrfToken(path = '/login'): Promise<string> {
    const html = await (await this.fetch(path)).text();
    const match = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
    if (!match?.[1]) throw new Error(`no csrf meta on ${path}`);
    return match[1];
  }

  /** POSTs JSON with the CSRF token and a same-origin Origin header. */
  async postJson(path: string, body: unknown, token: string): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': token, origin: this.base },
      body: JSON.stringify(body),
    });
  }
}
