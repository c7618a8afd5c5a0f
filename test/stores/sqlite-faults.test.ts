/**
 * The SQLite store under faults: the write lock held by another process, instances starting
 * together on a new file, a full disk, and a sweep that fails. What must hold: the event loop is never blocked for more than a few
 * milliseconds; reads keep being served while another process holds the write lock; a write
 * waits for the lock on timers and gets it, or fails (503) within the bound having changed
 * nothing; the cookie a 503 leaves in place keeps working; a failing sweep never turns a
 * committed sign-in into a 503.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isSessionKitError } from '../../src/core/errors.ts';
import type { LogFields } from '../../src/core/events.ts';
import { createSessionManager } from '../../src/core/manager.ts';
import { sqliteStore } from '../../src/stores/sqlite.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { holdWriteLock } from '../support/sqlite-lock.ts';

/** The store's bound in these tests (the default is 2000 ms). */
const timeoutMs = 600;
/** What a call may take beyond the bound: timers firing late on a busy machine. */
const slackMs = 700;
/**
 * The longest the event loop may stall. The store's own stalls are a few ms (see
 * docs/stores.md); this bound leaves room for a busy shared machine and still fails any wait
 * on the lock inside a call (the lock is held for longer than the store's bound).
 */
const maxStallMs = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const directory = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-faults-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function captureLog() {
  const lines: string[] = [];
  const write = (message: string, fields?: LogFields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, logger: { warn: write, error: write } };
}

/** Signs in a user on a fresh session; returns the cookie jar. */
async function signIn(manager: ReturnType<typeof createSessionManager>, userId: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const { session } = await manager.load(null);
  session.set('userId', userId);
  session.set('theme', 'light');
  jar.apply(await manager.commit(session));
  return jar;
}

const idOf = (jar: CookieJar) => (jar.get('__Host-session') ?? '').slice(0, 43);

/** Runs `source` as an ES module in a Node process of its own; resolves with what it printed. */
function runModule(source: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk;
    });
    child.on('error', reject);
    child.on('exit', () => resolve(printed.trim()));
  });
}

describe('sqlite store: the write lock held by another process', () => {
  it('reads keep flowing, the event loop stays free, writes fail within the bound and change nothing', async () => {
    const file = join(directory, 'locked.db');
    const store = sqliteStore({ database: file, timeoutMs });
    const manager = createSessionManager({ secrets: testSecrets[0], store });
    const jars = await Promise.all(['ana', 'bo', 'cy'].map((name) => signIn(manager, name)));
    const [reader, writer, rotator] = jars as [CookieJar, CookieJar, CookieJar];

    const lock = await holdWriteLock(file);
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    try {
      const writing = (async () => {
        const started = performance.now();
        const { session } = await manager.load(writer.header());
        session.set('theme', 'dark');
        const error = await manager.commit(session).catch((caught: unknown) => caught);
        return { error, waitedMs: performance.now() - started };
      })();
      const rotating = (async () => {
        const { session } = await manager.load(rotator.header());
        session.regenerate();
        const error = await manager.commit(session).catch((caught: unknown) => caught);
        return { error, newId: session.id };
      })();
      // Reads of unchanged sessions meanwhile: each answered at once, the whole time.
      let reads = 0;
      let slowestReadMs = 0;
      const until = performance.now() + timeoutMs + 300;
      while (performance.now() < until) {
        const started = performance.now();
        const loaded = await manager.load(reader.header());
        slowestReadMs = Math.max(slowestReadMs, performance.now() - started);
        expect(loaded.status).toBe('valid');
        reads++;
        await sleep(5);
      }
      const written = await writing;
      const rotated = await rotating;
      stalls.disable();

      expect(reads).toBeGreaterThan(20);
      expect(slowestReadMs).toBeLessThan(maxStallMs);
      expect(stalls.max / 1e6).toBeLessThan(maxStallMs);
      for (const { error } of [written, rotated]) {
        expect(isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
        expect(String((error as Error).cause)).toContain('stayed locked by another connection');
      }
      expect(written.waitedMs).toBeGreaterThanOrEqual(timeoutMs);
      expect(written.waitedMs).toBeLessThan(timeoutMs + slackMs);

      await lock.release();
      // Nothing changed: the write was not applied, the rotation neither deleted nor created a row.
      expect((await manager.load(writer.header())).session.get('theme')).toBe('light');
      expect((await manager.load(rotator.header())).status).toBe('valid');
      expect(await store.get(rotated.newId)).toBeUndefined();
    } finally {
      stalls.disable();
      await lock.release().catch(() => {});
      await store.dispose();
    }
  });

  it('a write that meets the lock waits for it on timers and succeeds once it is released', async () => {
    const file = join(directory, 'released.db');
    const store = sqliteStore({ database: file, timeoutMs });
    const manager = createSessionManager({ secrets: testSecrets[0], store });
    const jar = await signIn(manager, 'dee');
    const lock = await holdWriteLock(file);
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    const started = performance.now();
    const { session } = await manager.load(jar.header());
    session.set('theme', 'dark');
    const committing = manager.commit(session);
    await sleep(timeoutMs / 3);
    await lock.release();
    await committing;
    stalls.disable();
    expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs / 3);
    expect(stalls.max / 1e6).toBeLessThan(maxStallMs);
    expect((await manager.load(jar.header())).session.get('theme')).toBe('dark');
    await store.dispose();
  });
});

/** A small file system that can fill up: a tmpfs when we may mount one, else SQLite's own page limit. */
function smallFileSystem(path: string): { kind: 'tmpfs' | 'max_page_count'; release(): void } {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path], { stdio: 'ignore' });
    return { kind: 'tmpfs', release: () => execFileSync('umount', ['-l', path], { stdio: 'ignore' }) };
  } catch {
    return { kind: 'max_page_count', release: () => {} };
  }
}

describe('sqlite store: instances starting together on a new file', () => {
  it('every one of 4 processes creating the store at the same moment gets it, in each of 8 rounds', async () => {
    const built = fileURLToPath(new URL('../../dist/stores/sqlite.js', import.meta.url));
    const failures: string[] = [];
    for (let round = 0; round < 8; round++) {
      const file = join(directory, `startup-${round}.db`);
      // Each process waits for the same moment, then opens the new file (switching it to WAL).
      const startAt = Date.now() + 500;
      const instance = `
        const { sqliteStore } = await import(${JSON.stringify(built)});
        while (Date.now() < ${startAt});
        try {
          const store = sqliteStore({ database: ${JSON.stringify(file)} });
          await store.dispose();
          console.log('ok');
        } catch (error) {
          console.log(String(error.message));
        }`;
      const answers = await Promise.all(Array.from({ length: 4 }, () => runModule(instance)));
      failures.push(...answers.filter((answer) => answer !== 'ok').map((answer) => `round ${round}: ${answer}`));
    }
    // Before setup retried, about one round in two had an instance fail with "database is locked".
    expect(failures).toEqual([]);
  }, 60_000);

  it('a lock that outlasts timeoutMs while the store sets up fails with the database, the cause and the fix named', async () => {
    const file = join(directory, 'startup-held.db');
    const setUp = new DatabaseSync(file);
    setUp.exec('PRAGMA journal_mode = WAL');
    setUp.close();
    const lock = await holdWriteLock(file);
    try {
      const started = Date.now();
      const error = (() => {
        try {
          sqliteStore({ database: file, timeoutMs });
        } catch (caught) {
          return caught;
        }
      })();
      const elapsedMs = Date.now() - started;
      expect(String(error)).toContain(`sqliteStore(): the database "${file}" stayed locked by another connection`);
      expect(String(error)).toMatch(/for 600 ms \(timeoutMs\).*start this one once it is done, or raise timeoutMs/);
      expect(String((error as Error).cause)).toMatch(/database is locked/);
      expect(elapsedMs).toBeGreaterThanOrEqual(timeoutMs - 10);
      expect(elapsedMs).toBeLessThan(timeoutMs + slackMs);
    } finally {
      await lock.release();
    }
    const store = sqliteStore({ database: file, timeoutMs }); // once the lock is gone, it sets up
    await store.dispose();
  });
});

describe('sqlite store: a full disk', () => {
  it('reads keep working; writes and sign-ins get 503 and change nothing; writes work again once there is room', async () => {
    const mount = join(directory, 'small');
    const disk = smallFileSystem(mount);
    const file = join(mount, 'sessions.db');
    const store = sqliteStore({ database: file, timeoutMs });
    const manager = createSessionManager({ secrets: testSecrets[0], store });
    try {
      const jars = await Promise.all(['eve', 'fay'].map((name) => signIn(manager, name)));
      const [writer, rotator] = jars as [CookieJar, CookieJar];
      const filler = join(mount, 'filler');
      // Every later write must grow the database files: the WAL starts empty.
      store.database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      if (disk.kind === 'tmpfs') {
        const handle = openSync(filler, 'w');
        try {
          const chunk = Buffer.alloc(16 * 1024, 1);
          for (;;) writeSync(handle, chunk);
        } catch (error) {
          expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
        } finally {
          closeSync(handle);
        }
      } else {
        const { page_count: pages } = store.database.prepare('PRAGMA page_count').get() as { page_count: number };
        store.database.exec(`PRAGMA max_page_count = ${pages}`);
      }

      const { session, status } = await manager.load(writer.header());
      expect(status).toBe('valid');
      session.set('theme', 'dark');
      session.set('big', 'x'.repeat(8000));
      const writeError = await manager.commit(session).catch((caught: unknown) => caught);
      expect(isSessionKitError(writeError, 'ERR_STORE_UNAVAILABLE')).toBe(true);
      expect(String((writeError as Error).cause)).toMatch(/full/);

      const rotating = await manager.load(rotator.header());
      rotating.session.set('big', 'y'.repeat(8000));
      rotating.session.regenerate();
      const rotateError = await manager.commit(rotating.session).catch((caught: unknown) => caught);
      expect(isSessionKitError(rotateError, 'ERR_STORE_UNAVAILABLE')).toBe(true);

      // The cookies the 503s left in place still work, with nothing of the failed writes.
      expect((await manager.load(writer.header())).session.get('theme')).toBe('light');
      expect((await manager.load(rotator.header())).status).toBe('valid');
      expect(await store.get(rotating.session.id)).toBeUndefined();

      if (disk.kind === 'tmpfs') rmSync(filler);
      else store.database.exec('PRAGMA max_page_count = 1073741823');
      const retry = await manager.load(writer.header());
      retry.session.set('theme', 'dark');
      await manager.commit(retry.session);
      expect((await manager.load(writer.header())).session.get('theme')).toBe('dark');
    } finally {
      await store.dispose();
      disk.release();
    }
  });
});

describe('sqlite store: a failing sweep', () => {
  it('never fails the sign-in that triggered it: the sweep runs afterwards, and its failure is logged', async () => {
    const database = new DatabaseSync(':memory:');
    const { lines, logger } = captureLog();
    const store = sqliteStore({ database, sweepEveryWrites: 1, logger });
    const manager = createSessionManager({ secrets: testSecrets[0], store });
    // The database refuses the sweep: deleting the expired row aborts.
    database.exec(`CREATE TRIGGER refuse_sweep BEFORE DELETE ON sessionkit_sessions
      WHEN OLD.id = 'expired' BEGIN SELECT RAISE(ABORT, 'sweep refused by a trigger'); END`);
    const expired = { id: 'expired', secretHash: 'h', userId: undefined, createdAt: 1, renewedAt: 1, expiresAt: 2 };
    await store.create({ ...expired, data: {}, flash: {} }, { deadline: 2 });
    const jar = new CookieJar();
    const anonymous = await manager.load(null);
    anonymous.session.set('cart', 1);
    jar.apply(await manager.commit(anonymous.session));
    const oldId = idOf(jar);
    await expect.poll(() => lines.length).toBe(2); // the sweeps after both creations failed
    const rows = () =>
      database
        .prepare('SELECT id FROM sessionkit_sessions ORDER BY id')
        .all()
        .map((row) => row.id);

    const { session } = await manager.load(jar.header());
    session.set('userId', 'hal');
    session.regenerate();
    const cookies = await manager.commit(session); // committed; its sweep runs afterwards and fails
    expect(cookies).toHaveLength(1);
    jar.apply(cookies);
    expect(rows()).not.toContain(oldId);
    expect(rows()).toContain(session.id);
    expect((await manager.load(jar.header())).session.get('userId')).toBe('hal');
    await expect.poll(() => lines.length).toBe(3);
    expect(lines[2]).toContain('sweep of expired sessions failed');
    expect(lines[2]).toContain('sweep refused by a trigger');
    expect(rows()).toContain('expired'); // the refused sweep deleted nothing
    await store.dispose();
  });
});
