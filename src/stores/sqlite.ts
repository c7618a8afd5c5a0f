/**
 * The embedded session store for a single machine, on `node:sqlite` (built into Node >= 22.13;
 * no native build). One table, created once; statements prepared once; a per-key patch is a
 * single `UPDATE` with `json_set` / `json_remove`, atomic across processes sharing the file;
 * expired rows are swept every `sweepEveryWrites` creations.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { configError } from '../core/errors.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import { parseJsonObject, type SessionPatch, type SessionStore, sqlRowInfo, sqlRowValues } from '../core/store.ts';

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** An open `DatabaseSync`, or a file path to open (WAL mode, 5 s busy timeout). */
  database: DatabaseSync | string;
  /** Table name. Default `sessionkit_sessions`. */
  table?: string;
  /** Delete expired rows after this many session creations. Default 500. */
  sweepEveryWrites?: number;
  /** Clock in milliseconds for sweeping (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link sqliteStore}. */
export interface SqliteStore extends SessionStore {
  /** The database in use. */
  readonly database: DatabaseSync;
  /** Deletes expired rows now; returns how many. */
  sweep(nowSeconds?: number): Promise<number>;
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

function openDatabase(path: string): DatabaseSync {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  const sqlite = getBuiltinModule?.('node:sqlite') as typeof import('node:sqlite') | undefined;
  // workerd (Cloudflare Workers) has a node:sqlite whose DatabaseSync cannot be constructed.
  if (sqlite === undefined || globalThis.navigator?.userAgent === 'Cloudflare-Workers')
    throw configError(
      'sqliteStore() needs node:sqlite, which this runtime lacks (Node >= 22.13, Deno and Bun have it; Cloudflare Workers do not).',
      'On Workers, keep sessions in Workers KV (unstorageStore() with the unstorage driver cloudflare-kv-binding, see docs/stores.md) or in sealed cookies (no store).',
    );
  const database = new sqlite.DatabaseSync(path);
  // The busy timeout first: switching to WAL takes a lock, and another process opening the same
  // file at the same moment (two instances starting together) must make this one wait, not fail.
  database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
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
 * // or: sqliteStore({ database: new DatabaseSync('./data/app.db'), table: 'sessions' })
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  const where = 'sqliteStore()';
  assertOptionsObject(options, ['database', 'table', 'sweepEveryWrites', 'now'], where);
  if (options === undefined || options.database === undefined) {
    throw configError(`${where}: "database" is required.`, 'Pass a file path or a node:sqlite DatabaseSync.');
  }
  const table = options.table ?? 'sessionkit_sessions';
  if (typeof table !== 'string' || !tablePattern.test(table)) {
    throw configError(`${where}: "table" must be a plain SQL identifier (letters, digits, "_").`);
  }
  const sweepEveryWrites = options.sweepEveryWrites ?? 500;
  assertNumberInRange(sweepEveryWrites, 1, 1_000_000, `${where}: sweepEveryWrites`);
  const now = options.now ?? Date.now;
  const database =
    typeof options.database === 'string'
      ? openDatabase(options.database)
      : typeof (options.database as DatabaseSync).prepare === 'function'
        ? options.database
        : undefined;
  if (database === undefined) throw configError(`${where}: "database" must be a path or a DatabaseSync.`);

  const t = `"${table}"`;
  database.exec(`
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
  `);
  const columns = 'id, secret_hash, user_id, created_at, renewed_at, expires_at, data, flash, user_agent, ip';
  const selectOne = database.prepare(`SELECT ${columns} FROM ${t} WHERE id = ?`);
  const insert = database.prepare(`INSERT OR REPLACE INTO ${t} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const deleteOne = database.prepare(`DELETE FROM ${t} WHERE id = ?`);
  const deleteExpired = database.prepare(`DELETE FROM ${t} WHERE expires_at <= ?`);
  const listUser = database.prepare(
    `SELECT id, user_id, created_at, renewed_at, expires_at, user_agent, ip FROM ${t}
     WHERE user_id = ? AND expires_at > ? ORDER BY created_at, id`,
  );
  const deleteUser = database.prepare(`DELETE FROM ${t} WHERE user_id = ? AND id IS NOT ? RETURNING id`);
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const rollback = database.prepare('ROLLBACK');
  const patchStatements = new Map<string, StatementSync>();
  let createsSinceSweep = 0;

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

  const sweepNow = (at: number): number => Number(deleteExpired.run(at).changes);

  return {
    name: 'sqlite',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: false },
    database,
    async get(id) {
      const row = selectOne.get(id) as Row | undefined;
      if (row === undefined) return undefined;
      return {
        ...sqlRowInfo(row),
        userId: row.user_id ?? undefined,
        secretHash: row.secret_hash,
        data: parseJsonObject(row.data),
        flash: parseJsonObject(row.flash),
      };
    },
    async create(session, createOptions) {
      const values = sqlRowValues(session);
      if (createOptions.replacing === undefined) {
        insert.run(...values);
      } else {
        begin.run();
        try {
          if (Number(deleteOne.run(createOptions.replacing).changes) === 0) {
            rollback.run();
            return false;
          }
          insert.run(...values);
          commit.run();
        } catch (error) {
          if (database.isTransaction) rollback.run();
          throw error;
        }
      }
      if (++createsSinceSweep >= sweepEveryWrites) {
        createsSinceSweep = 0;
        sweepNow(Math.floor(now() / 1000));
      }
      return true;
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
      return Number(patchStatement(patch, setData, setFlash).run(...parameters).changes) > 0;
    },
    async delete(id) {
      return Number(deleteOne.run(id).changes) > 0;
    },
    async listByUser(userId, at) {
      return (listUser.all(userId, at) as Row[]).map(sqlRowInfo);
    },
    async deleteByUser(userId, exceptId) {
      return (deleteUser.all(userId, exceptId ?? null) as { id: string }[]).map((row) => row.id);
    },
    async sweep(at = Math.floor(now() / 1000)) {
      return sweepNow(at);
    },
  };
}
