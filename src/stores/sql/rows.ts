/**
 * The row layout shared by the SQL stores (`sqliteStore`, `postgresStore`): one table, one row
 * per session, these columns in this order.
 *
 * @module
 */
import type { StoredSession, StoredSessionInfo } from '../../core/store.ts';

/** The columns of a session row, in table order. */
export const sqlColumns = 'id, secret_hash, user_id, created_at, renewed_at, expires_at, data, flash, user_agent, ip';

/** The columns `listByUser` reads: a row without its data, flash or secret hash. */
export const sqlInfoColumns = 'id, user_id, created_at, renewed_at, expires_at, user_agent, ip';

/** The values of {@link sqlColumns} for one session: data and flash as JSON text. */
export type SqlRowValues = [
  id: string,
  secretHash: string,
  userId: string | null,
  createdAt: number,
  renewedAt: number,
  expiresAt: number,
  data: string,
  flash: string,
  userAgent: string | null,
  ip: string | null,
];

/**
 * A stored session as the column values of a SQL store row, in {@link sqlColumns} order.
 *
 * @example
 * ```ts
 * insert.run(...sqlRowValues(session));
 * ```
 */
export function sqlRowValues(session: StoredSession): SqlRowValues {
  return [
    session.id,
    session.secretHash,
    session.userId ?? null,
    session.createdAt,
    session.renewedAt,
    session.expiresAt,
    JSON.stringify(session.data),
    JSON.stringify(session.flash),
    session.userAgent ?? null,
    session.ip ?? null,
  ];
}

/**
 * The {@link StoredSessionInfo} view of a row, by its column names (the inverse of
 * {@link sqlRowValues}, minus data). Numbers go through `Number()`: Postgres returns `bigint`
 * columns as strings.
 *
 * @example
 * ```ts
 * const listed = rows.map(sqlRowInfo);
 * ```
 */
export function sqlRowInfo(row: Readonly<Record<string, unknown>>): StoredSessionInfo {
  return {
    id: row.id as string,
    userId: row.user_id as string,
    createdAt: Number(row.created_at),
    renewedAt: Number(row.renewed_at),
    expiresAt: Number(row.expires_at),
    ...(row.user_agent === null ? {} : { userAgent: row.user_agent as string }),
    ...(row.ip === null ? {} : { ip: row.ip as string }),
  };
}

/**
 * The whole {@link StoredSession} of a row, given its data and flash already decoded (SQLite
 * keeps them as JSON text, Postgres as `jsonb`).
 *
 * @example
 * ```ts
 * const session = sqlRowSession(row, parseJsonObject(row.data), parseJsonObject(row.flash));
 * ```
 */
export function sqlRowSession(
  row: Readonly<Record<string, unknown>>,
  data: Record<string, unknown>,
  flash: Record<string, unknown>,
): StoredSession {
  return {
    ...sqlRowInfo(row),
    userId: (row.user_id as string | null) ?? undefined,
    secretHash: row.secret_hash as string,
    data,
    flash,
  };
}
