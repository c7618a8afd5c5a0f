/**
 * Tools for the attack suite: the two fixture apps (cookie mode `astro-attack`, store mode
 * `astro-store`) built for production and served with their secret, SQLite file and event log
 * passed through the environment; an attacker-minded HTTP client that remembers every cookie and
 * CSRF token it ever saw (so the audit log can be scanned for them); raw-socket requests for
 * what `fetch` refuses to send; and cookies sealed offline with the fixture secret.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionManager } from '../../../src/core/manager.ts';
import { childEnv, freePort, linkPackageIntoFixtures } from '../../support/astro.ts';
import { addBrowserFetchSite } from '../../support/fetch-site.ts';

/** The fixtures' server secret: random, 43 base64url characters, passed only through the environment. */
export const fixtureSecret = 'IffUKfnoI67PbE-MQKC4SUFricDMtiMXioKl2ekVzAE';
/** A second, equally strong secret (another app's, or the next one in a rotation). */
export const otherSecret = 'FoSv0P4jE9C1BNeH1RkHvD24rq818NNy_8Eiu3NDGMM';
/** The session cookie name (sessionkit's default). */
export const cookieName = '__Host-session';
/** The anonymous CSRF cookie that goes with it (forms shown before any session exists). */
export const anonymousCookieName = `${cookieName}-csrf`;

export type Mode = 'cookie' | 'store';
export const fixtureOf: Record<Mode, string> = { cookie: 'astro-attack', store: 'astro-store' };

/** A running fixture app plus where its audit log and database live. */
export interface App {
  readonly mode: Mode;
  readonly url: string;
  readonly origin: string;
  readonly eventsFile: string;
  /** Store mode only: the SQLite file. */
  readonly databaseFile: string | undefined;
  readonly server: ServerProcess;
  /** Every event logged so far, parsed. */
  events(): SessionEventLine[];
  /** A mark to read only later events with {@link App.eventsSince}. */
  mark(): number;
  eventsSince(mark: number): SessionEventLine[];
  /** The raw audit log text. */
  eventLog(): string;
  stop(): Promise<void>;
}

/** One line of the fixtures' audit log. */
export type SessionEventLine = { type: string; [key: string]: unknown };

const workDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by {@link removeWorkDirs}. */
export function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-security-'));
  workDirs.push(dir);
  return dir;
}

/** Removes the temp directories made by {@link workDir}. */
export function removeWorkDirs(): void {
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixturesRoot = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const astroBin = join(repoRoot, 'node_modules/astro/bin/astro.mjs');
/**
 * Each test run builds into its own folder under the fixture's (git-ignored) `dist/`, so two
 * runs of this suite at once (two terminals, CI retries) never delete each other's server files.
 */
const outDirName = `dist/security-${process.pid}-${Date.now().toString(36)}`;
const outDirOf = (mode: Mode): string => join(fixturesRoot, fixtureOf[mode], outDirName);

/** Builds a fixture for production (once per test file). */
export function build(mode: Mode): void {
  linkPackageIntoFixtures();
  const root = join(fixturesRoot, fixtureOf[mode]);
  const result = spawnSync(process.execPath, [astroBin, 'build', '--root', root, '--outDir', outDirOf(mode)], {
    encoding: 'utf8',
    env: childEnv(),
  });
  if (result.status !== 0)
    throw new Error(`astro build ${fixtureOf[mode]} failed:\n${result.stdout}\n${result.stderr}`);
}

/** Removes this run's builds. */
export function removeBuilds(): void {
  for (const mode of Object.keys(fixtureOf) as Mode[]) rmSync(outDirOf(mode), { recursive: true, force: true });
}

/** A server child process. */
export interface ServerProcess {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node <args>` and waits until `url` answers. */
async function startServer(args: string[], env: Record<string, string>, url: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, {
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
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      return { url, output: () => log, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`server at ${url} did not start:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Serves a built fixture with its secret (and database) from the environment. */
export async function serve(mode: Mode, env: Record<string, string> = {}): Promise<App> {
  const dir = workDir();
  const eventsFile = join(dir, 'events.jsonl');
  const databaseFile = mode === 'store' ? join(dir, 'sessions.db') : undefined;
  const port = await freePort();
  const server = await startServer(
    [join(outDirOf(mode), 'server/entry.mjs')],
    {
      HOST: '127.0.0.1',
      PORT: String(port),
      SESSIONKIT_SECRET: fixtureSecret,
      SESSIONKIT_EVENTS_FILE: eventsFile,
      ...(databaseFile === undefined ? {} : { SESSIONKIT_DB: databaseFile }),
      ...env,
    },
    `http://127.0.0.1:${port}`,
  );
  const eventLog = (): string => (existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8') : '');
  const events = (): SessionEventLine[] =>
    eventLog()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as SessionEventLine);
  return {
    mode,
    url: server.url,
    origin: new URL(server.url).origin,
    eventsFile,
    databaseFile,
    server,
    events,
    eventLog,
    mark: () => events().length,
    eventsSince: (mark) => events().slice(mark),
    stop: () => server.stop(),
  };
}

/**
 * An HTTP client that keeps cookies like a browser (without SameSite, so it can play the victim
 * whose browser sends cookies on a forged request) and remembers every cookie value and CSRF
 * token it ever received, so tests can check that none of them leaks into logs.
 */
export class Client {
  readonly #cookies = new Map<string, string>();
  /** Every session cookie value and CSRF token this client has seen. */
  readonly seenSecrets = new Set<string>();

  constructor(readonly app: App) {}

  /** Sends a request with the stored cookies; applies `Set-Cookie`; never follows redirects. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    addBrowserFetchSite(headers, this.app.url);
    const response = await fetch(`${this.app.url}${path}`, { ...init, headers, redirect: 'manual' });
    this.applySetCookies(response.headers.getSetCookie());
    return response;
  }

  /** Applies `Set-Cookie` lines (deletions included). */
  applySetCookies(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value !== '') this.seenSecrets.add(value);
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The `Cookie` header this client sends. */
  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** A cookie's current value (the anonymous CSRF cookie, say). */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Sets (plants) a cookie; `undefined` removes it. */
  setCookie(name: string, value: string | undefined): void {
    if (value === undefined) this.#cookies.delete(name);
    else this.#cookies.set(name, value);
  }

  /** The session cookie's current value. */
  get session(): string | undefined {
    return this.#cookies.get(cookieName);
  }

  /** Replaces the session cookie (planting, replaying); `undefined` removes it. */
  set session(value: string | undefined) {
    if (value === undefined) this.#cookies.delete(cookieName);
    else this.#cookies.set(cookieName, value);
  }

  /** Loads a page and returns its CSRF token (from `<meta name="csrf-token">`). */
  async csrfToken(path = '/login'): Promise<string> {
    const response = await this.fetch(path);
    const match = /<meta name="csrf-token" content="([^"]+)"/.exec(await response.text());
    if (!match?.[1]) throw new Error(`no CSRF token on ${path} (status ${response.status})`);
    this.seenSecrets.add(match[1]);
    return match[1];
  }

  /** A same-origin JSON request carrying `token` (omit it with `null`). */
  json(path: string, body: unknown, token: string | null, method = 'POST', extra: HeadersInit = {}): Promise<Response> {
    const headers = new Headers({ 'content-type': 'application/json', origin: this.app.origin, ...extra });
    if (token !== null) headers.set('x-csrf-token', token);
    return this.fetch(path, { method, headers, body: JSON.stringify(body) });
  }

  /** Signs in through the JSON endpoint (fresh token from the login page). */
  async signIn(user: string): Promise<Response> {
    const token = await this.csrfToken();
    const response = await this.json('/api/login', { user }, token);
    if (response.status !== 200) throw new Error(`sign-in as ${user} failed: ${response.status}`);
    return response;
  }

  /** Signs out (with a fresh token from an authenticated page). */
  async signOut(): Promise<Response> {
    const token = await this.csrfToken('/account');
    return this.fetch('/api/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.app.origin, 'x-csrf-token': token },
    });
  }

  /** `{ signedIn, userId }` as the app sees this client. */
  async whoami(cookie?: string): Promise<{ signedIn: boolean; userId: string | null }> {
    const response = await this.fetch('/api/whoami', cookie === undefined ? {} : { headers: { cookie } });
    if (response.status !== 200) throw new Error(`whoami: ${response.status}`);
    return (await response.json()) as { signedIn: boolean; userId: string | null };
  }
}

/** The parsed attributes of a `Set-Cookie` line for the session cookie, if any. */
export function sessionSetCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((line) => line.startsWith(`${cookieName}=`));
}

/** True when `response` sets a non-empty session cookie (a deletion does not count). */
export function setsSessionCookie(response: Response): boolean {
  const line = sessionSetCookie(response);
  return line !== undefined && !line.startsWith(`${cookieName};`) && !/^__Host-session=;/.test(line);
}

/** A raw HTTP/1.1 exchange over a socket, for requests `fetch` will not send as written. */
export function rawRequest(app: App, head: string, body = ''): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = received.toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text });
    });
    const lines = head.endsWith('\r\n') ? head : `${head}\r\n`;
    // `write`, not `end`: a half-closed socket makes Node's server drop the response.
    socket.write(Buffer.concat([Buffer.from(`${lines}Connection: close\r\n\r\n`, 'latin1'), Buffer.from(body)]));
  });
}

/**
 * A cookie value sealed offline with the fixture secret (what a server holding that secret would
 * issue), with chosen timestamps: `createdAtSeconds` / `renewedAtSeconds` ago.
 */
export async function sealCookie(options: {
  data: Record<string, unknown>;
  createdSecondsAgo?: number;
  renewedSecondsAgo?: number;
  secret?: string;
  absoluteTimeoutSeconds?: number;
  idleTimeoutSeconds?: number;
}): Promise<string> {
  const now = Date.now();
  const created = options.createdSecondsAgo ?? 0;
  const renewed = options.renewedSecondsAgo ?? created;
  let clock = now - created * 1000;
  const expiry = {
    absoluteTimeoutSeconds: options.absoluteTimeoutSeconds ?? 7 * 24 * 3600,
    idleTimeoutSeconds: options.idleTimeoutSeconds ?? 24 * 3600,
    renewAfterFraction: 0,
  };
  const manager = createSessionManager({ secrets: options.secret ?? fixtureSecret, now: () => clock, expiry });
  const { session } = await manager.load(null);
  for (const [key, value] of Object.entries(options.data)) session.set(key, value);
  let cookies = await manager.commit(session);
  if (renewed !== created) {
    clock = now - renewed * 1000;
    const value = cookieValueOf(cookies);
    const loaded = await manager.load(`${cookieName}=${value}`);
    if (loaded.status !== 'valid') throw new Error(`sealCookie: reload failed (${loaded.status})`);
    cookies = await manager.commit(loaded.session);
  }
  return cookieValueOf(cookies);
}

function cookieValueOf(setCookies: readonly string[]): string {
  const line = setCookies.find((entry) => entry.startsWith(`${cookieName}=`));
  if (line === undefined) throw new Error('no session cookie was written');
  return line.slice(cookieName.length + 1, line.indexOf(';'));
}

/**
 * Opens a cookie value with the fixture secret: what the server would see in it, now or (for an
 * expired cookie) `secondsAgo`.
 */
export async function openCookie(
  value: string,
  secondsAgo = 0,
): Promise<{ status: string; data: Record<string, unknown>; id: string; createdAt: number }> {
  const at = Date.now() - secondsAgo * 1000;
  const manager = createSessionManager({ secrets: fixtureSecret, now: () => at });
  const loaded = await manager.load(`${cookieName}=${value}`);
  const { session } = loaded;
  return { status: loaded.status, data: { ...session.data }, id: session.id, createdAt: session.createdAt };
}

const rawMethodScript = fileURLToPath(new URL('./raw-method-server.mjs', import.meta.url));

/**
 * Node's HTTP parser (llhttp) answers 400 to a lowercase method such as `patch` before any app
 * code runs, but other runtimes (Bun, Deno, workerd) hand it through, and Astro dispatches it to
 * the `PATCH` handler (it upper-cases before the lookup). This server mounts the fixture's own
 * production handler and sets `req.method` verbatim from the `x-test-method` header, so the
 * lowercase method reaches sessionkit exactly as it would on such a runtime.
 */
export async function serveRawMethod(app: App, env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const entry = join(outDirOf(app.mode), 'server/entry.mjs');
  return startServer(
    [rawMethodScript, entry, String(port)],
    { ASTRO_NODE_AUTOSTART: 'disabled', SESSIONKIT_SECRET: fixtureSecret, ...env },
    `http://127.0.0.1:${port}`,
  );
}
