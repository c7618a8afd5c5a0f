/**
 * The embedded session store for a single machine, on `node:sqlite` (built into Node >= 22.13;
 * no native build). One table, created once; statements prepared once; a per-key patch is a
 * single `UPDATE` with `json_set` / `json_remove`, atomic across processes sharing the file.
 *
 * `node:sqlite` is synchronous, so the store never lets SQLite wait for a lock: a file it opens
 * has a busy timeout of 0, and a statement that finds the database locked by another
 * connection (SQLITE_BUSY) is retried on a timer, with the event loop free in between, until
 * the call's bound (`timeoutMs`); then the call fails (503). Readers are never blocked by a
 * writer (WAL). Expired rows are swept in the background every `sweepEveryWrites` creations, in
 * batches, never inside the call that counted them; a failed sweep is logged.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { configError } from '../core/errors.ts';
import { createReporter, type Logger } from '../core/events.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import { parseJsonObject, type SessionPatch, type SessionStore } from '../core/store.ts';
import { createBackgroundWork } from './background.ts';
import { deadlineAfter, defaultTimeoutMs, StoreTimeoutError } from './sql/deadline.ts';
import { sqlColumns, sqlInfoColumns, sqlRowInfo, sqlRowSession, sqlRowValues } from './sql/rows.ts';

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * A file path to open (WAL mode, busy timeout 0: the store waits for locks itself), or an open
   * `DatabaseSync` of yours: then open it in WAL mode with a short `timeout` (at most a few ms),
   * since SQLite waits out its busy timeout on the event loop.
   */
  database: DatabaseSync | string;
  /** Table name. Default `sessionkit_sessions`. */
  table?: string;
  /** Delete expired rows (in the background) after this many session creations. Default 500. */
  sweepEveryWrites?: number;
  /**
   * How long one store call may wait for a lock another connection holds before it fails with a
   * 503, in milliseconds. Default 2000.
   */
  timeoutMs?: number;
  /** Where the store logs what happens outside a request (failed sweeps) and setup warnings. Default: nowhere. */
  logger?: Logger;
  /** Clock in milliseconds for sweeping (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link sqliteStore}. */
export interface SqliteStore extends SessionStore {
  /** The database in use. */
  readonly database: DatabaseSync;
  /** Deletes expired rows now, in batches; returns how many. */
  sweep(nowSeconds?: number): Promise<number>;
  /** Stops the background sweep; closes the database if the store opened it (from a path). */
  dispose(): Promise<void>;
}

type Row = {
  id: string;
  secret_hash: string;
  user_id: string | null;
  created_at: number;
  renewed_at: number;
  expires_at: number;
  data: string;
  flash: string;
  user_agent: string | null;
  ip: string | null;
};

const tablePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const maxCachedShapes = 64;
/** Rows one sweep statement deletes (about a millisecond of work), between turns of the event loop. */
const sweepBatchRows = 500;
/** A busy timeout above this on a database the app passes in is worth a warning. */
const longBusyTimeoutMs = 20;

/** A JSON path addressing one top-level key, whatever characters it holds. */
function jsonPath(key: string): string {
  return `$."${JSON.stringify(key).slice(1, -1)}"`;
}

function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** `json_set(json_remove(column, ?...), ?, json(?)...)` for the given numbers of keys. */
function patchExpression(column: string, removed: number, set: number): string {
  let expression = column;
  if (removed > 0) expression = `json_remove(${expression}${', ?'.repeat(removed)})`;
  if (set > 0) expression = `json_set(${expression}${', ?, json(?)'.repeat(set)})`;
  return expression;
}

/** SQLITE_BUSY or SQLITE_LOCKED (primary codes, whatever the extended code). */
function isLocked(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

const pauseMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs the store's setup `sql` (once, when the store is created), trying again while another
 * connection holds a lock, for up to `timeoutMs`. Two processes starting together on a new file
 * both switch it to WAL, and SQLite answers one of them "database is locked" at once, without
 * waiting out the busy timeout (each holds a read lock the other's switch needs), so the busy
 * timeout alone does not cover it. The pauses block: setup is synchronous, and runs before the
 * store serves anything.
 *
 * @param databaseName - how the error names the database (the path, or the option)
 * @throws `StoreTimeoutError` naming the database and `timeoutMs` when the lock outlasts it
 */
function setUpWhileLocked(database: DatabaseSync, sql: string, timeoutMs: number, databaseName: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 32)) {
    try {
      database.exec(sql);
      return;
    } catch (error) {
      if (!isLocked(error)) throw error;
      if (Date.now() >= deadline) {
        throw new StoreTimeoutError(
          `sqliteStore(): ${databaseName} stayed locked by another connection for ${timeoutMs} ms (timeoutMs) while the store set up its table. Another process holds its write lock (a long write, a backup, a migration): start this one once it is done, or raise timeoutMs.`,
          { cause: error },
        );
      }
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

/** Node built-ins, found at run time (no static `node:` import: the store stays bundleable anywhere). */
function builtin<T>(id: string): T | undefined {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  return getBuiltinModule?.(id) as T | undefined;
}

/** True for paths SQLite does not read as a file of the disk: `:memory:`, `''` and `file:` URIs. */
function isPlainFilePath(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file:');
}

function openDatabase(path: string, timeoutMs: number): DatabaseSync {
  const sqlite = builtin<typeof import('node:sqlite')>('node:sqlite');
  // workerd (Cloudflare Workers) has a node:sqlite whose DatabaseSync cannot be constructed.
  if (sqlite === undefined || globalThis.navigator?.userAgent === 'Cloudflare-Workers')
    throw configError(
      'sqliteStore() needs node:sqlite, which this runtime lacks (Node >= 22.13, Deno and Bun have it; Cloudflare Workers do not).',
      'On Workers, keep sessions in Workers KV (unstorageStore() with the unstorage driver cloudflare-kv-binding, see docs/stores.md) or in sealed cookies (no store).',
    );
  const fs = builtin<typeof import('node:fs')>('node:fs');
  const paths = builtin<typeof import('node:path')>('node:path');
  const resolved = paths !== undefined && isPlainFilePath(path) ? paths.resolve(path) : path;
  let database: DatabaseSync;
  try {
    // A new app's "./data/sessions.db" names a folder nobody has made yet: make it.
    if (fs !== undefined && paths !== undefined && isPlainFilePath(path)) {
      fs.mkdirSync(paths.dirname(resolved), { recursive: true });
    }
    database = new sqlite.DatabaseSync(resolved);
  } catch (error) {
    throw configError(
      `sqliteStore(): cannot open the database "${path}" (${resolved}): ${(error as Error).message}.`,
      'Give a path whose folder this process can create and write (relative paths start at the working directory), or pass an open DatabaseSync.',
    );
  }
  // At startup, before any request: switching to WAL takes a lock, and another process opening
  // the same file at the same moment (two instances starting together) must make this one
  // wait, not fail. Setup waits at most the store's own bound; once the table exists the busy
  // timeout drops to 0 (see sqliteStore).
  setUpWhileLocked(
    database,
    `PRAGMA busy_timeout = ${Math.floor(timeoutMs)}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`,
    timeoutMs,
    `the database "${path}"`,
  );
  return database;
}

/**
 * Creates a SQLite session store.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from 'node:sqlite';
 * import { sqliteStore } from 'sessionkit/stores/sqlite';
 *
 * const store = sqliteStore({ database: './data/sessions.db' });
 * // or: sqliteStore({ database: new DatabaseSync('./data/app.db', { timeout: 0 }), table: 'sessions' })
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  const where = 'sqliteStore()';
  assertOptionsObject(options, ['database', 'table', 'sweepEveryWrites', 'timeoutMs', 'logger', 'now'], where);
  if (options === undefined || options.database === undefined) {
    throw configError(`${where}: "database" is required.`, 'Pass a file path or a node:sqlite DatabaseSync.');
  }
  const table = options.table ?? 'sessionkit_sessions';
  if (typeof table !== 'string' || !tablePattern.test(table)) {
    throw configError(`${where}: "table" must be a plain SQL identifier (letters, digits, "_").`);
  }
  const sweepEveryWrites = options.sweepEveryWrites ?? 500;
  assertNumberInRange(sweepEveryWrites, 1, 1_000_000, `${where}: sweepEveryWrites`);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  assertNumberInRange(timeoutMs, 1, 600_000, `${where}: timeoutMs`);
  const now = options.now ?? Date.now;
  const reporter = createReporter({ logger: options.logger });
  const ownsDatabase = typeof options.database === 'string';
  const database =
    typeof options.database === 'string'
      ? openDatabase(options.database, timeoutMs)
      : typeof (options.database as DatabaseSync).prepare === 'function'
        ? options.database
        : undefined;
  if (database === undefined) throw configError(`${where}: "database" must be a path or a DatabaseSync.`);

  const t = `"${table}"`;
  setUpWhileLocked(
    database,
    `
    CREATE TABLE IF NOT EXISTS ${t} (
      id TEXT PRIMARY KEY NOT NULL,
      secret_hash TEXT NOT NULL,
      user_id TEXT,
      created_at INTEGER NOT NULL,
      renewed_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      data TEXT NOT NULL,
      flash TEXT NOT NULL,
      user_agent TEXT,
      ip TEXT
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS "${table}_user_id" ON ${t} (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at);
  `,
    timeoutMs,
    ownsDatabase ? `the database "${options.database as string}"` : 'the database passed as "database"',
  );
  if (ownsDatabase) {
    database.exec('PRAGMA busy_timeout = 0');
  } else {
    const { timeout } = database.prepare('PRAGMA busy_timeout').get() as { timeout: number };
    if (timeout > longBusyTimeoutMs) {
      reporter.log(
        'warn',
        `${where}: the database passed as "database" has a busy timeout of ${timeout} ms: while another process holds the write lock, each write blocks the event loop that long`,
        {
          store: 'sqlite',
          hint: 'Open it with `new DatabaseSync(path, { timeout: 0 })`: the store retries on timers.',
        },
      );
    }
  }
  const selectOne = database.prepare(`SELECT ${sqlColumns} FROM ${t} WHERE id = ?`);
  const insert = database.prepare(`INSERT OR REPLACE INTO ${t} (${sqlColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const deleteOne = database.prepare(`DELETE FROM ${t} WHERE id = ?`);
  const deleteExpired = database.prepare(
    `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE expires_at <= ? LIMIT ${sweepBatchRows})`,
  );
  const listUser = database.prepare(
    `SELECT ${sqlInfoColumns} FROM ${t} WHERE user_id = ? AND expires_at > ? ORDER BY created_at, id`,
  );
  const deleteUser = database.prepare(`DELETE FROM ${t} WHERE user_id = ? AND id IS NOT ? RETURNING id`);
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const rollback = database.prepare('ROLLBACK');
  const patchStatements = new Map<string, StatementSync>();
  const background = createBackgroundWork('sqlite', reporter);
  let createsSinceSweep = 0;
  let disposed = false;
  let disposing: Promise<void> | undefined;

  const patchStatement = (patch: SessionPatch, setData: string[], setFlash: string[]): StatementSync => {
    const shape = `${patch.unsetData.length},${setData.length},${patch.unsetFlash.length},${setFlash.length}`;
    let statement = patchStatements.get(shape);
    if (statement === undefined) {
      statement = database.prepare(
        `UPDATE ${t} SET
           data = ${patchExpression('data', patch.unsetData.length, setData.length)},
           flash = ${patchExpression('flash', patch.unsetFlash.length, setFlash.length)},
           renewed_at = ?, expires_at = ?,
           user_id = CASE WHEN ? THEN ? ELSE user_id END,
           user_agent = CASE WHEN ? THEN ? ELSE user_agent END,
           ip = CASE WHEN ? THEN ? ELSE ip END
         WHERE id = ?`,
      );
      if (patchStatements.size >= maxCachedShapes) patchStatements.delete(patchStatements.keys().next().value!);
      patchStatements.set(shape, statement);
    }
    return statement;
  };

  /**
   * Runs `work` (synchronous: one statement, or one whole transaction); while another
   * connection holds the lock it needs, retries on a timer (1, 2, 4 ... 32 ms apart) until the
   * bound.
   */
  const attempt = async <T>(operation: string, work: () => T): Promise<T> => {
    if (disposed) throw new Error('sqlite store: the store was disposed');
    const deadline = deadlineAfter(timeoutMs);
    for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 32)) {
      try {
        return work();
      } catch (error) {
        if (!isLocked(error)) throw error;
        const remaining = deadline.remainingMs();
        if (remaining === 0) {
          throw new StoreTimeoutError(
            `sqlite store: ${operation}: the database stayed locked by another connection for ${timeoutMs} ms (timeoutMs)`,
            { cause: error },
          );
        }
        await pauseMs(Math.min(waitMs, remaining));
      }
    }
  };
  /** Runs `work` in one write transaction; any failure rolls it back whole. */
  const transaction = <T>(work: () => T): T => {
    begin.run();
    try {
      const result = work();
      commit.run();
      return result;
    } catch (error) {
      if (database.isTransaction) rollback.run();
      throw error;
    }
  };
  /** Deletes expired rows in batches, a turn of the event loop apart. */
  const sweepInBatches = async (at: number, keepGoing: () => boolean): Promise<number> => {
    let total = 0;
    for (;;) {
      const deleted = await attempt('sweep', () => Number(deleteExpired.run(at).changes));
      total += deleted;
      if (deleted < sweepBatchRows || !keepGoing()) return total;
      await pauseMs(0);
    }
  };

  return {
    name: 'sqlite',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: false },
    database,
    async get(id) {
      const row = await attempt('get', () => selectOne.get(id) as Row | undefined);
      if (row === undefined) return undefined;
      return sqlRowSession(row, parseJsonObject(row.data), parseJsonObject(row.flash));
    },
    async create(session, createOptions) {
      const values = sqlRowValues(session);
      const { replacing } = createOptions;
      const created = await attempt('create', () => {
        if (replacing === undefined) {
          insert.run(...values);
          return true;
        }
        // One transaction: the old row goes only if the new one is written.
        return transaction(() => {
          if (Number(deleteOne.run(replacing).changes) === 0) return false;
          insert.run(...values);
          return true;
        });
      });
      if (created && ++createsSinceSweep >= sweepEveryWrites) {
        createsSinceSweep = 0;
        background.start('sweep of expired sessions', async () => {
          await sweepInBatches(Math.floor(now() / 1000), () => !background.stopped);
        });
      }
      return created;
    },
    async patch(id, patch) {
      const setData = Object.keys(patch.setData);
      const setFlash = Object.keys(patch.setFlash);
      const parameters: (string | number | null)[] = [];
      for (const key of patch.unsetData) parameters.push(jsonPath(key));
      for (const key of setData) parameters.push(jsonPath(key), jsonText(patch.setData[key]));
      for (const key of patch.unsetFlash) parameters.push(jsonPath(key));
      for (const key of setFlash) parameters.push(jsonPath(key), jsonText(patch.setFlash[key]));
      const metadata = patch.metadata;
      parameters.push(
        patch.renewedAt,
        patch.expiresAt,
        patch.userId === undefined ? 0 : 1,
        patch.userId ?? null,
        metadata === undefined ? 0 : 1,
        metadata?.userAgent ?? null,
        metadata === undefined ? 0 : 1,
        metadata?.ip ?? null,
        id,
      );
      const statement = patchStatement(patch, setData, setFlash);
      return attempt('patch', () => Number(statement.run(...parameters).changes) > 0);
    },
    async delete(id) {
      return attempt('delete', () => Number(deleteOne.run(id).changes) > 0);
    },
    async listByUser(userId, at) {
      return (await attempt('listByUser', () => listUser.all(userId, at) as Row[])).map(sqlRowInfo);
    },
    async deleteByUser(userId, exceptId) {
      const rows = await attempt('deleteByUser', () => deleteUser.all(userId, exceptId ?? null) as { id: string }[]);
      return rows.map((row) => row.id);
    },
    sweep: (at = Math.floor(now() / 1000)) => sweepInBatches(at, () => !disposed),
    dispose() {
      disposing ??= background.stop().then(() => {
        disposed = true;
        if (ownsDatabase) database.close(); // once: `disposing` runs this at most one time
      });
      return disposing;
    },
  };
}
