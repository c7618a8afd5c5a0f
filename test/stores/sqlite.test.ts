import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionKitError } from '../../src/core/errors.ts';
import { sqliteStore } from '../../src/stores/sqlite.ts';
import { describeStoreConformance } from './conformance.ts';

const directory = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeStoreConformance('sqlite (file, two connections)', async () => {
  const file = join(directory, 'sessions.db');
  const store = sqliteStore({ database: file });
  const second = sqliteStore({ database: file });
  return {
    store,
    second,
    async dump() {
      return JSON.stringify(store.database.prepare('SELECT * FROM sessionkit_sessions').all());
    },
    async close() {
      await Promise.all([store.dispose(), second.dispose()]);
    },
    async afterDispose() {
      // The store opened it from a path: it closed it (DatabaseSync#isOpen only exists from Node 22.15).
      expect(() => store.database.prepare('SELECT 1')).toThrow(/not open/);
      expect(second.database.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    },
  };
});

describe('sqliteStore', () => {
  it('waits for a lock another process holds on the file at startup instead of failing', async () => {
    // Two instances starting on one file at the same moment: the other one holds the lock (here
    // an exclusive transaction on a new file, for 400 ms) while this one switches the file to WAL.
    const file = join(directory, 'contended.db');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
         const db = new DatabaseSync(${JSON.stringify(file)});
         db.exec('BEGIN EXCLUSIVE; CREATE TABLE held (x); INSERT INTO held VALUES (1);');
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
         db.exec('COMMIT');`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [chunk] = await once(holder.stdout, 'data');
    expect(String(chunk)).toBe('locked\n');
    const exited = once(holder, 'exit');
    const store = sqliteStore({ database: file });
    expect(store.database.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(store.database.prepare('SELECT x FROM held').all()).toEqual([{ x: 1 }]);
    store.database.close();
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('creates its table and indexes once, on a database the app passes in', () => {
    const database = new DatabaseSync(':memory:');
    sqliteStore({ database, table: 'app_sessions' });
    sqliteStore({ database, table: 'app_sessions' });
    const objects = database
      .prepare("SELECT type, name FROM sqlite_master WHERE tbl_name = 'app_sessions' ORDER BY name")
      .all()
      .map((row) => `${row.type}:${row.name}`);
    expect(objects).toEqual(['table:app_sessions', 'index:app_sessions_expires_at', 'index:app_sessions_user_id']);
  });

  it('sweeps expired rows every sweepEveryWrites creations, in the background after the creation', async () => {
    let now = 2_000_000_000_000;
    const database = new DatabaseSync(':memory:');
    const store = sqliteStore({ database, sweepEveryWrites: 3, now: () => now });
    const row = (id: string, expiresAt: number) => ({
      id,
      secretHash: 'h',
      userId: undefined,
      createdAt: 1,
      renewedAt: 1,
      expiresAt,
      data: {},
      flash: {},
    });
    await store.create(row('old1', 2_000_000_010), { deadline: 0 });
    await store.create(row('old2', 2_000_000_010), { deadline: 0 });
    now += 20_000;
    const ids = () =>
      database
        .prepare('SELECT id FROM sessionkit_sessions ORDER BY id')
        .all()
        .map((r) => r.id);
    await store.create(row('new', 2_000_000_100), { deadline: 0 });
    expect(ids()).toEqual(['new', 'old1', 'old2']); // not inside the creation
    await expect.poll(ids).toEqual(['new']);
    await store.dispose();
  });

  it('patches one JSON key in place, whatever characters the key holds', async () => {
    const database = new DatabaseSync(':memory:');
    const store = sqliteStore({ database });
    await store.create(
      {
        id: 'x',
        secretHash: 'h',
        userId: undefined,
        createdAt: 1,
        renewedAt: 1,
        expiresAt: 4e9,
        data: { keep: 1 },
        flash: {},
      },
      { deadline: 4e9 },
    );
    const keys = ['a"b', 'back\\slash', '', '$.x', '[0]', '\n', '😀', '__proto__'];
    for (const key of keys) {
      await store.patch('x', {
        setData: { [key]: { v: key } },
        unsetData: [],
        setFlash: {},
        unsetFlash: [],
        renewedAt: 2,
        expiresAt: 4e9,
      });
    }
    const data = (await store.get('x'))!.data;
    expect(Object.keys(data).sort()).toEqual(['keep', ...keys].sort());
    for (const key of keys) expect(data[key]).toEqual({ v: key });
    await store.patch('x', {
      setData: {},
      unsetData: keys,
      setFlash: {},
      unsetFlash: [],
      renewedAt: 3,
      expiresAt: 4e9,
    });
    expect((await store.get('x'))!.data).toEqual({ keep: 1 });
  });

  it("creates the folder of a database path that does not exist yet (a new app's ./data/sessions.db)", async () => {
    const file = join(directory, 'new-app', 'data', 'sessions.db');
    const store = sqliteStore({ database: file });
    expect(existsSync(file)).toBe(true);
    expect(store.database.prepare('SELECT count(*) AS n FROM sessionkit_sessions').get()).toEqual({ n: 0 });
    await store.dispose();
  });

  it('names the path it could not open, resolved, and the fix', () => {
    // A file where the folder should be: the folder cannot be made.
    const blocker = join(directory, 'blocker');
    writeFileSync(blocker, '');
    const error = (() => {
      try {
        sqliteStore({ database: join(blocker, 'sessions.db') });
      } catch (caught) {
        return caught as SessionKitError;
      }
      throw new Error('the store opened');
    })();
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toContain(`cannot open the database "${join(blocker, 'sessions.db')}"`);
    expect(error.hint).toMatch(/folder this process can create and write/);
  });

  it('rejects bad options', () => {
    expect(() => sqliteStore({} as never)).toThrow(/"database" is required/);
    expect(() => sqliteStore({ database: ':memory:', table: 'x; DROP TABLE y' })).toThrow(/identifier/);
  });
});
