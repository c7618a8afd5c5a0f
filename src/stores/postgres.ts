/**
 * PostgreSQL session store over the app's own `pg` Pool (node-postgres 8). One table, created
 * once (`CREATE TABLE IF NOT EXISTS`, serialised by an advisory lock so instances starting
 * together do not race), an index on the user id, data and flash as `jsonb`. A patch is one
 * `UPDATE ... SET data = (data - $removed) || $set`: atomic, per key. Expired rows are swept every
 * `sweepEveryWrites` creations.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import { type SessionStore, sqlRowInfo, sqlRowValues } from '../core/store.ts';

/** The part of a `pg` Pool (or Client) the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool (recommended: `connectionTimeoutMillis` and `query_timeout` set, so outages fail fast). */
  pool: PgQueryable;
  /** Table name, optionally schema-qualified. Default `sessionkit_sessions`. */
  table?: string;
  /** Create the table and indexes on first use. Default true. */
  createTable?: boolean;
  /** Delete expired rows after this many session creations. Default 500. */
  sweepEveryWrites?: number;
  /** Clock in milliseconds for sweeping (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link postgresStore}. */
export interface PostgresStore extends SessionStore {
  /** Creates the table and indexes if missing (done automatically on first use). */
  ready(): Promise<void>;
  /** Deletes expired rows now; returns how many. */
  sweep(nowSeconds?: number): Promise<number>;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function quoteTable(table: string): { sql: string; base: string } {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw configError('postgresStore(): "table" must be an identifier, optionally schema-qualified (schema.table).');
  }
  return { sql: parts.map((part) => `"${part}"`).join('.'), base: parts.at(-1) as string };
}

/**
 * Creates a PostgreSQL session store.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { postgresStore } from 'sessionkit/stores/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store: postgresStore({ pool }) });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const where = 'postgresStore()';
  assertOptionsObject(options, ['pool', 'table', 'createTable', 'sweepEveryWrites', 'now'], where);
  if (typeof options?.pool?.query !== 'function') {
    throw configError(`${where}: "pool" must be a pg Pool.`, 'Pass `pool: new pg.Pool({ connectionString })`.');
  }
  const { pool } = options;
  const { sql: t, base } = quoteTable(options.table ?? 'sessionkit_sessions');
  const sweepEveryWrites = options.sweepEveryWrites ?? 500;
  assertNumberInRange(sweepEveryWrites, 1, 1_000_000, `${where}: sweepEveryWrites`);
  const now = options.now ?? Date.now;
  const columns = 'id, secret_hash, user_id, created_at, renewed_at, expires_at, data, flash, user_agent, ip';
  const statements = {
    select: `SELECT ${columns} FROM ${t} WHERE id = $1`,
    insert: `INSERT INTO ${t} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)`,
    replace: `WITH removed AS (DELETE FROM ${t} WHERE id = $11 RETURNING id)
      INSERT INTO ${t} (${columns})
      SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10 WHERE EXISTS (SELECT 1 FROM removed)`,
    patch: `UPDATE ${t} SET
        data = (data - $2::text[]) || $3::jsonb,
        flash = (flash - $4::text[]) || $5::jsonb,
        renewed_at = $6, expires_at = $7,
        user_id = CASE WHEN $8::boolean THEN $9 ELSE user_id END,
        user_agent = CASE WHEN $10::boolean THEN $11 ELSE user_agent END,
        ip = CASE WHEN $10::boolean THEN $12 ELSE ip END
      WHERE id = $1`,
    remove: `DELETE FROM ${t} WHERE id = $1`,
    list: `SELECT id, user_id, created_at, renewed_at, expires_at, user_agent, ip FROM ${t}
      WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`,
    removeUser: `DELETE FROM ${t} WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2) RETURNING id`,
    sweep: `DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE expires_at <= $1 LIMIT 10000)`,
  };
  const ddl = `BEGIN;
    SELECT pg_advisory_xact_lock(hashtext('sessionkit:' || '${t.replaceAll("'", "''")}'));
    CREATE TABLE IF NOT EXISTS ${t} (
      id text PRIMARY KEY,
      secret_hash text NOT NULL,
      user_id text,
      created_at bigint NOT NULL,
      renewed_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      flash jsonb NOT NULL DEFAULT '{}',
      user_agent text,
      ip text
    );
    CREATE INDEX IF NOT EXISTS "${base}_user_id_idx" ON ${t} (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${base}_expires_at_idx" ON ${t} (expires_at);
    COMMIT;`;

  let tableReady = options.createTable === false;
  let creating: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    if (tableReady) return Promise.resolve();
    creating ??= pool.query(ddl).then(
      () => {
        tableReady = true;
      },
      (error: unknown) => {
        creating = undefined; // retried on the next call (e.g. the database was down at boot)
        throw error;
      },
    );
    return creating;
  };
  const query = async (text: string, values: unknown[]) => {
    if (!tableReady) await ready();
    return pool.query(text, values);
  };
  let createsSinceSweep = 0;
  const sweep = async (at: number): Promise<number> => (await query(statements.sweep, [at])).rowCount ?? 0;

  return {
    name: 'postgres',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: false },
    ready,
    async get(id) {
      const row = (await query(statements.select, [id])).rows[0];
      if (row === undefined) return undefined;
      return {
        ...sqlRowInfo(row),
        userId: (row.user_id as string | null) ?? undefined,
        secretHash: row.secret_hash as string,
        data: row.data as Record<string, unknown>,
        flash: row.flash as Record<string, unknown>,
      };
    },
    async create(session, createOptions) {
      const values = sqlRowValues(session);
      if (createOptions.replacing !== undefined) {
        const result = await query(statements.replace, [...values, createOptions.replacing]);
        if (result.rowCount === 0) return false;
      } else {
        await query(statements.insert, values);
      }
      if (++createsSinceSweep >= sweepEveryWrites) {
        createsSinceSweep = 0;
        // Best effort and off the request path: a failed sweep is retried N creations later.
        sweep(Math.floor(now() / 1000)).catch(() => {});
      }
      return true;
    },
    async patch(id, patch) {
      const result = await query(statements.patch, [
        id,
        patch.unsetData,
        JSON.stringify(patch.setData),
        patch.unsetFlash,
        JSON.stringify(patch.setFlash),
        patch.renewedAt,
        patch.expiresAt,
        patch.userId !== undefined,
        patch.userId ?? null,
        patch.metadata !== undefined,
        patch.metadata?.userAgent ?? null,
        patch.metadata?.ip ?? null,
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async delete(id) {
      return ((await query(statements.remove, [id])).rowCount ?? 0) > 0;
    },
    async listByUser(userId, at) {
      return (await query(statements.list, [userId, at])).rows.map((row) => sqlRowInfo(row));
    },
    async deleteByUser(userId, exceptId) {
      return (await query(statements.removeUser, [userId, exceptId ?? null])).rows.map((row) => row.id as string);
    },
    sweep: (at = Math.floor(now() / 1000)) => sweep(at),
  };
}
