/**
 * The Postgres store under server faults, on a private PostgreSQL (the shared one is never
 * stopped): a fast stop, a kill -9 of every server process, and a freeze (SIGSTOP) under load;
 * and, step by step, a freeze placed between the steps of one write (a wrapped pool holds a
 * statement back until the server is frozen).
 *
 * What must hold: the process stays up; every call ends within the store's bound; a 503 leaves
 * the user's cookie working; a 503 on a write says whether it may have been applied, and one
 * that says `unchanged` was not; no acknowledged write is lost; a failed sign-in leaves the old
 * session valid and no unreachable row behind.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionKitError } from '../../src/core/errors.ts';
import type { LogFields } from '../../src/core/events.ts';
import { createSessionManager, type SessionManager } from '../../src/core/manager.ts';
import type { StoredSession } from '../../src/core/store.ts';
import { type PgPoolClient, type PgPoolLike, postgresStore, StoreWriteError } from '../../src/stores/postgres.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';

/** The store's bound in these tests (the default is 2000 ms; smaller keeps the file fast). */
const timeoutMs = 500;
/** What a call may take beyond the bound: timers firing late on a busy machine. */
const slackMs = 700;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  // A check that fails (the server is still frozen) counts as not yet.
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function captureLog() {
  const lines: string[] = [];
  const write = (message: string, fields?: LogFields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, logger: { warn: write, error: write } };
}

function row(id: string, data: Record<string, unknown> = {}): StoredSession {
  return { id, secretHash: 'h', userId: 'u', createdAt: 1, renewedAt: 1, expiresAt: 4e9, data, flash: {} };
}

const patchOf = (data: Record<string, unknown>) => ({
  setData: data,
  unsetData: [],
  setFlash: {},
  unsetFlash: [],
  renewedAt: 2,
  expiresAt: 4e9,
});

/**
 * A pool whose connections run `hooks` around each statement: a test holds a statement back
 * (to freeze the server first) or delays an answer, at an exact step of the store's protocol.
 */
function interceptedPool(
  pool: pg.Pool,
  hooks: {
    before?: (text: string) => Promise<void> | void;
    after?: (text: string) => Promise<void> | void;
  },
): PgPoolLike {
  return {
    connect(callback) {
      pool.connect((error, client) => {
        if (client === undefined) return callback(error ?? new Error('no client'), undefined);
        const wrapped: PgPoolClient = {
          query(text, values, answer) {
            Promise.resolve(hooks.before?.(text))
              .then(() => client.query(text, values))
              .then(
                async (result) => {
                  await hooks.after?.(text);
                  answer(null, result);
                },
                (failure: Error) => answer(failure, { rows: [], rowCount: null }),
              );
          },
          release: (failure) => client.release(failure),
          on: (event, listener) => client.on(event, listener),
          removeListener: (event, listener) => client.removeListener(event, listener),
        };
        callback(undefined, wrapped);
      });
    },
    on: (event, listener) => pool.on(event, listener),
    removeListener: (event, listener) => pool.removeListener(event, listener),
  };
}

const isCommit = (text: string) => text.startsWith('DO $$');

/**
 * Ends a test's pool once its store is disposed. The pool is the app's: with the store gone, so
 * is its 'error' listener, and connections still closing when the server stops (afterAll) must
 * not crash the test process.
 */
function endPool(pool: pg.Pool): void {
  pool.on('error', () => {});
  void pool.end();
}

let server: PrivatePostgres;
beforeAll(async () => {
  // fsync off: these tests kill processes, not the machine, so the OS keeps every write either way.
  server = await startPrivatePostgres({ fsync: 'off' });
});
afterAll(async () => {
  await server?.destroy();
});

describe('postgres store: one write, frozen between its steps', () => {
  let pool: pg.Pool;
  let direct: ReturnType<typeof postgresStore>;
  const table = 'steps';
  beforeAll(async () => {
    pool = new pg.Pool({ ...server.settings, connectionTimeoutMillis: timeoutMs, max: 8 });
    direct = postgresStore({ pool, table, timeoutMs });
    await direct.ready();
  });
  afterAll(async () => {
    server.thaw();
    await direct.dispose();
    endPool(pool);
  });

  async function frozenAt(
    step: (text: string) => boolean,
    write: (store: ReturnType<typeof postgresStore>) => Promise<unknown>,
  ) {
    let held = false;
    const store = postgresStore({
      pool: interceptedPool(pool, {
        before(text) {
          if (!held && step(text)) {
            held = true;
            server.freeze(); // the statement is sent to a server that no longer answers
          }
        },
      }),
      table,
      timeoutMs,
    });
    const started = performance.now();
    const error = await write(store).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const waitedMs = performance.now() - started;
    await sleep(timeoutMs); // the server stays frozen past the app's deadline, then resumes
    server.thaw();
    await store.dispose();
    expect(held).toBe(true);
    return { error, waitedMs };
  }

  it.each([
    // Sent after BEGIN was answered: without a COMMIT, the server rolls it back on resuming.
    { step: 'statement', at: (text: string) => text.startsWith('UPDATE'), told: 'unchanged' },
    // The app cannot know whether the server took its COMMIT before freezing, and says so; the
    // server refuses it on resuming (too late).
    { step: 'COMMIT', at: isCommit, told: 'unknown' },
  ])(
    'a write whose $step reaches a frozen server: 503 within the bound, told "$told", nothing applied on resuming',
    async ({ step, at, told }) => {
      const id = `frozen-${step}`;
      await direct.create(row(id, { v: 'before' }), { deadline: 4e9 });
      const { error, waitedMs } = await frozenAt(at, (store) => store.patch(id, patchOf({ v: 'after' })));
      expect(error).toBeInstanceOf(StoreWriteError);
      expect((error as StoreWriteError).outcome).toBe(told);
      expect(waitedMs).toBeLessThan(timeoutMs + slackMs);
      await sleep(100);
      expect((await direct.get(id))?.data).toEqual({ v: 'before' });
    },
  );

  it('the server itself refuses a COMMIT it reads after 3/4 of the bound, and the app is told "unchanged"', async () => {
    // A longer bound here, so the resume lands well inside the last quarter: after the commit
    // window (1500 ms), before the app's deadline and the idle-in-transaction timeout (2000 ms).
    const boundMs = 2000;
    await direct.create(row('s6', { v: 'before' }), { deadline: 4e9 });
    let held = false;
    const store = postgresStore({
      pool: interceptedPool(pool, {
        before(text) {
          if (!held && isCommit(text)) {
            held = true;
            server.freeze();
            setTimeout(() => server.thaw(), boundMs * 0.875);
          }
        },
      }),
      table,
      timeoutMs: boundMs,
    });
    const error = await store.patch('s6', patchOf({ v: 'after' })).catch((caught: unknown) => caught);
    expect(held).toBe(true);
    expect(error).toBeInstanceOf(StoreWriteError);
    expect((error as StoreWriteError).outcome).toBe('unchanged');
    expect((error as Error).message).toContain('COMMIT refused');
    expect((await direct.get('s6'))?.data).toEqual({ v: 'before' });
    await store.dispose();
  });

  it('a rotation whose COMMIT answer is lost: the old session stays valid and the new row is deleted in the background', async () => {
    await direct.create(row('old3', { n: 1 }), { deadline: 4e9 });
    let delayed = false;
    const { lines, logger } = captureLog();
    const store = postgresStore({
      pool: interceptedPool(pool, {
        async after(text) {
          if (!delayed && isCommit(text)) {
            delayed = true;
            await sleep(timeoutMs + 200); // committed on the server; the answer comes too late
          }
        },
      }),
      table,
      timeoutMs,
      logger,
    });
    const error = await store.create(row('new3', { n: 1 }), { deadline: 4e9, replacing: 'old3' }).catch((e) => e);
    expect(error).toBeInstanceOf(StoreWriteError);
    expect((error as StoreWriteError).outcome).toBe('unknown');
    expect(await direct.get('old3')).toBeDefined(); // the cookie the user keeps still works
    await waitUntil(async () => (await direct.get('new3')) === undefined, 'the unconfirmed row to be deleted');
    expect(await direct.get('old3')).toBeDefined();
    await store.dispose();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('deleting a new session whose creation is unconfirmed is left to the background');
  });

  it('a rotation whose deletion of the old row fails still succeeds; the old row is deleted once the server answers', async () => {
    await direct.create(row('old4'), { deadline: 4e9 });
    const { lines, logger } = captureLog();
    let frozen = false;
    const store = postgresStore({
      pool: interceptedPool(pool, {
        before(text) {
          if (!frozen && text.startsWith('DELETE')) {
            frozen = true;
            server.freeze();
            setTimeout(() => server.thaw(), timeoutMs * 2);
          }
        },
      }),
      table,
      timeoutMs,
      logger,
    });
    const started = performance.now();
    expect(await store.create(row('new4'), { deadline: 4e9, replacing: 'old4' })).toBe(true);
    expect(performance.now() - started).toBeLessThan(timeoutMs + slackMs);
    await waitUntil(async () => (await direct.get('old4')) === undefined, 'the old row to be deleted');
    expect(await direct.get('new4')).toBeDefined();
    expect(lines.some((line) => line.includes('is left to the background'))).toBe(true);
    await store.dispose();
  });

  it('a session revoked while its rotation waits is not resurrected', async () => {
    await direct.create(row('old5'), { deadline: 4e9 });
    expect(await direct.delete('old5')).toBe(true);
    expect(await direct.create(row('new5'), { deadline: 4e9, replacing: 'old5' })).toBe(false);
    expect(await direct.get('new5')).toBeUndefined();
  });
});

describe('postgres store: the pool of docs/stores.md through a stop, a kill -9 and a restart', () => {
  it('an app process with that pool stays up, answers 503 while the server is down, and recovers by itself', async () => {
    const built = fileURLToPath(new URL('../../dist/', import.meta.url));
    // The app: the pool options and store of docs/stores.md, then a request every 20 ms, on the
    // built package as an app imports it.
    const app = `
      import pg from 'pg';
      const { createSessionManager } = await import(${JSON.stringify(`${built}index.js`)});
      const { postgresStore } = await import(${JSON.stringify(`${built}stores/postgres.js`)});
      const pool = new pg.Pool({
        connectionString: process.env.DATABASE_URL,
        connectionTimeoutMillis: 2000,
        keepAlive: true,
      });
      const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET, store: postgresStore({ pool }) });
      let cookie = '';
      let slowestMs = 0;
      for (;;) {
        const started = performance.now();
        let outcome;
        try {
          const { session } = await sessions.load(cookie);
          session.set('visits', (session.get('visits') ?? 0) + 1);
          const lines = await sessions.commit(session);
          if (lines.length > 0) cookie = lines[0].split(';')[0];
          outcome = 'ok';
        } catch (error) {
          outcome = error.code;
        }
        slowestMs = Math.max(slowestMs, performance.now() - started);
        process.stdout.write(JSON.stringify({ outcome, slowestMs: Math.round(slowestMs), idle: pool.idleCount }) + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    `;
    const { host, port, user, database } = server.settings;
    const child = spawn(process.execPath, ['--input-type=module', '-e', app], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        DATABASE_URL: `postgres://${user}@${host}:${port}/${database}`,
        SESSION_SECRET: testSecrets[0],
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const outcomes: string[] = [];
    let last = { outcome: '', slowestMs: 0, idle: 0 };
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        last = JSON.parse(buffered.slice(0, newline));
        outcomes.push(last.outcome);
        buffered = buffered.slice(newline + 1);
      }
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    const okAfter = async (mark: number, what: string) =>
      waitUntil(() => outcomes.slice(mark).includes('ok') || !running(), what, 15_000);
    try {
      await okAfter(0, 'the app to serve');
      expect(last.idle).toBeGreaterThan(0); // the pool holds an idle connection when the server goes away

      await server.stop();
      let mark = outcomes.length;
      await waitUntil(() => outcomes.slice(mark).includes('ERR_STORE_UNAVAILABLE') || !running(), '503s', 15_000);
      await sleep(300);
      expect(running()).toBe(true);
      mark = outcomes.length;
      await server.start();
      await okAfter(mark, 'the app to recover after a restart');

      await sleep(200); // idle connections again
      await server.kill();
      mark = outcomes.length;
      await waitUntil(() => outcomes.slice(mark).includes('ERR_STORE_UNAVAILABLE') || !running(), '503s', 15_000);
      await sleep(300);
      expect(running()).toBe(true);
      mark = outcomes.length;
      await server.start();
      await okAfter(mark, 'the app to recover after a kill -9');

      expect(running()).toBe(true);
      expect(stderr).toBe('');
      expect(last.slowestMs).toBeLessThan(2000 + slackMs);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  });
});

describe('postgres store: sign-ins, writes and reads under a freeze, a stop and a kill -9', () => {
  it('every call ends within the bound; every 503 leaves the cookie working; no acknowledged write is lost; no row is left behind', async () => {
    const table = 'load';
    const pool = new pg.Pool({ ...server.settings, connectionTimeoutMillis: timeoutMs, keepAlive: true, max: 10 });
    const { lines, logger } = captureLog();
    const store = postgresStore({ pool, table, timeoutMs, logger });
    await store.ready();
    const manager: SessionManager = createSessionManager({ secrets: testSecrets[0], store });

    interface User {
      readonly name: string;
      readonly jar: CookieJar;
      /** The last value of `w` the store acknowledged. */
      acked: string;
      /** Values whose write failed with an unknown outcome since the last acknowledgement. */
      maybe: Set<string>;
      /** Values whose write failed with outcome `unchanged`: they must never be read back. */
      refused: Set<string>;
    }
    const users: User[] = [];
    for (let index = 0; index < 12; index++) {
      const user: User = {
        name: `user${index}`,
        jar: new CookieJar(),
        acked: 'w0',
        maybe: new Set(),
        refused: new Set(),
      };
      const { session } = await manager.load(null);
      session.set('userId', user.name);
      session.set('w', 'w0');
      user.jar.apply(await manager.commit(session));
      users.push(user);
    }

    let slowestMs = 0;
    let failures = 0;
    const orphanCandidates = new Set<string>();
    const timed = async <T>(call: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await call();
      } finally {
        slowestMs = Math.max(slowestMs, performance.now() - started);
      }
    };
    const outcomeOf = (error: unknown): StoreWriteError['outcome'] | undefined => {
      expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
      failures++;
      const cause = (error as Error).cause;
      return cause instanceof StoreWriteError ? cause.outcome : undefined;
    };

    let sequence = 0;
    let running = true;
    const act = async (user: User) => {
      while (running) {
        const before = user.jar.header();
        let loaded: Awaited<ReturnType<typeof manager.load>>;
        try {
          loaded = await timed(() => manager.load(before));
        } catch (error) {
          outcomeOf(error);
          await sleep(20);
          continue;
        }
        expect(loaded.status).toBe('valid');
        const seen = loaded.session.get('w') as string;
        expect(user.refused.has(seen)).toBe(false);
        const value = `w${++sequence}`;
        loaded.session.set('w', value);
        const rotating = sequence % 3 === 0;
        if (rotating) loaded.session.regenerate();
        try {
          user.jar.apply(await timed(() => manager.commit(loaded.session)));
          user.acked = value;
          user.maybe.clear();
        } catch (error) {
          const outcome = outcomeOf(error);
          (outcome === 'unchanged' ? user.refused : user.maybe).add(value);
          expect(user.jar.header()).toBe(before); // the cookie is kept
          if (rotating) orphanCandidates.add(loaded.session.id);
        }
        await sleep(5);
      }
    };
    const load = Promise.all(
      users.map((user) =>
        act(user).catch((error: unknown) => {
          running = false;
          throw error;
        }),
      ),
    );

    await sleep(500);
    server.freeze();
    await sleep(2000); // longer than the bound: every call meanwhile must give up by itself
    server.thaw();
    await sleep(600);
    await server.stop();
    await sleep(400);
    await server.start();
    await sleep(600);
    await server.kill();
    await sleep(400);
    await server.start();
    await sleep(600);
    running = false;
    await load;

    expect(failures).toBeGreaterThan(0);
    expect(slowestMs).toBeLessThan(timeoutMs + slackMs);
    // Every cookie works, and holds the last acknowledged value or one whose outcome was unknown.
    for (const user of users) {
      const { status, session } = await manager.load(user.jar.header());
      expect(status).toBe('valid');
      expect(session.get('userId')).toBe(user.name);
      const value = session.get('w') as string;
      expect(value === user.acked || user.maybe.has(value)).toBe(true);
    }
    // No row but the users' sessions remains, once background deletions have run.
    const live = async () => (await pool.query(`SELECT id FROM "${table}"`)).rows.map((r) => r.id as string).sort();
    const held = users.map((user) => (user.jar.get('__Host-session') ?? '').slice(0, 43)).sort();
    await waitUntil(
      async () => JSON.stringify(await live()) === JSON.stringify(held),
      'only the users’ rows to remain',
    );
    for (const id of orphanCandidates) expect(held).not.toContain(id);
    expect(lines.every((line) => !line.includes('too much background work'))).toBe(true);
    await store.dispose();
    endPool(pool);
  }, 60_000);
});
