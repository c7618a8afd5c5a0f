/**
 * PostgreSQL session store over the app's own `pg` Pool (node-postgres 8). One table, created
 * once (`CREATE TABLE IF NOT EXISTS`, serialised by an advisory lock so instances starting
 * together do not race), an index on the user id, data and flash as `jsonb`. A patch is one
 * `UPDATE ... SET data = (data - $removed) || $set`: atomic, per key.
 *
 * How it behaves when the server stops, crashes or freezes (docs/stores.md, "Outages"):
 * - **One bound.** Every call fails within `timeoutMs` (the request gets 503). A connection
 *   that did not answer in time is destroyed, never handed back to the pool.
 * - **Nothing thrown into the process.** The store listens for the pool's `error` event (an idle
 *   connection dropped by a restart) and for errors of the connections it holds; they are
 *   logged, and the pool replaces the connection.
 * - **A failed write changed nothing, or says it may have.** A write is a transaction whose
 *   COMMIT carries a check run on the server: the commit is refused once more than three
 *   quarters of the bound have passed since the transaction began (on the server's own clock),
 *   so a write the app gave up on rolls back even when a frozen server resumes later. Only a
 *   COMMIT sent in time whose answer was then lost has an unknown outcome; the error says so
 *   ({@link StoreWriteError}).
 * - **`regenerate()` keeps the old cookie working on failure.** The new row is created first
 *   (only while the old one exists, which it locks); the old row is deleted only once the new
 *   one is confirmed. If that deletion fails, the call still succeeds (the user gets the new
 *   cookie) and the deletion is retried in the background. A new row whose creation has an
 *   unknown outcome is deleted in the background, so no unreachable row is left.
 * - **No maintenance inside a request.** Expired rows are swept in the background every
 *   `sweepEveryWrites` creations; a failed sweep is logged.
 *
 * @module
 */
import { configError } from '../core/errors.ts';
import { createReporter, type Logger } from '../core/events.ts';
import { assertNumberInRange, assertOptionsObject } from '../core/options.ts';
import type { Clock } from '../core/runtime.ts';
import type { SessionStore } from '../core/store.ts';
import { createBackgroundWork } from './background.ts';
import { afterPendingIo, type Deadline, deadlineAfter, defaultTimeoutMs, StoreTimeoutError } from './sql/deadline.ts';
import { sqlColumns, sqlInfoColumns, sqlRowInfo, sqlRowSession, sqlRowValues } from './sql/rows.ts';

/** What `pg` answers to a query. */
export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/**
 * A connection checked out of a `pg` Pool (a `PoolClient`). The store uses `pg`'s callback
 * forms, which skip the promise chain `pg` adds to each call (about 10 µs per read).
 */
export interface PgPoolClient {
  query(text: string, values: unknown[] | undefined, callback: (error: Error | null, result: PgResult) => void): void;
  /** Hands the connection back; with an error, the pool closes it instead. */
  release(error?: Error): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a `pg` Pool the store uses. */
export interface PgPoolLike {
  connect(callback: (error: Error | undefined, client: PgPoolClient | undefined) => void): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A `pg` Pool. Recommended: `connectionTimeoutMillis` at most `timeoutMs`, `keepAlive: true`
   * (docs/stores.md, "Recommended client options").
   */
  pool: PgPoolLike;
  /** Table name, optionally schema-qualified. Default `sessionkit_sessions`. */
  table?: string;
  /** Create the table and indexes on first use. Default true. */
  createTable?: boolean;
  /** Delete expired rows (in the background) after this many session creations. Default 500. */
  sweepEveryWrites?: number;
  /** How long one store call may take before it fails with a 503, in milliseconds. Default 2000. */
  timeoutMs?: number;
  /** Where the store logs what happens outside a request: dropped connections, failed sweeps. Default: nowhere. */
  logger?: Logger;
  /** Clock in milliseconds for sweeping (default `Date.now`). */
  now?: Clock;
}

/** The store returned by {@link postgresStore}. */
export interface PostgresStore extends SessionStore {
  /** Creates the table and indexes if missing (done automatically on first use). */
  ready(): Promise<void>;
  /** Deletes expired rows now (at most 10 000); returns how many. */
  sweep(nowSeconds?: number): Promise<number>;
  /** Stops the background work and stops listening to the pool. The pool stays open: it is yours. */
  dispose(): Promise<void>;
}

/**
 * A write of {@link postgresStore} that failed. `outcome` tells whether it can have been applied.
 *
 * @example
 * ```ts
 * if (error.cause instanceof StoreWriteError && error.cause.outcome === 'unknown') retryLater();
 * ```
 */
export class StoreWriteError extends Error {
  /**
   * `unchanged`: the transaction was never committed and never will be (it failed before its
   * COMMIT was sent, or the server refused the COMMIT). `unknown`: the COMMIT was sent in time
   * but its answer did not come back; it may have been applied.
   */
  readonly outcome: 'unchanged' | 'unknown';

  constructor(operation: string, outcome: 'unchanged' | 'unknown', cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      outcome === 'unchanged'
        ? `postgres store: ${operation} failed and changed nothing: ${reason}`
        : `postgres store: ${operation} failed after its COMMIT was sent, so it may have been applied: ${reason}`,
      { cause },
    );
    this.name = 'StoreWriteError';
    this.outcome = outcome;
  }
}

/** Sends one statement on the call's connection; `step` names it in a timeout message. */
type Ask = (step: string, text: string, values?: unknown[]) => Promise<PgResult>;

/** One statement of a transaction. */
interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** The SQLSTATE the COMMIT check raises (class SK: not a PostgreSQL code). */
const commitRefusedCode = 'SK001';

function quoteTable(table: string): { sql: string; base: string } {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw configError('postgresStore(): "table" must be an identifier, optionally schema-qualified (schema.table).');
  }
  return { sql: parts.map((part) => `"${part}"`).join('.'), base: parts.at(-1) as string };
}

/** `BEGIN`, bounding each statement and the time the transaction may sit idle, on the server. */
function beginBounded(statementMs: number, idleMs: number): string {
  return `BEGIN; SET LOCAL statement_timeout = ${statementMs}; SET LOCAL idle_in_transaction_session_timeout = ${idleMs}`;
}

/** `COMMIT`, refused by the server once `withinMs` have passed since the transaction began. */
function commitWithin(withinMs: number): string {
  return `DO $$BEGIN IF clock_timestamp() > transaction_timestamp() + interval '${withinMs} milliseconds' THEN
    RAISE EXCEPTION USING ERRCODE = '${commitRefusedCode}',
      MESSAGE = 'sessionkit: COMMIT refused: the app stopped waiting for this write'; END IF; END$$; COMMIT`;
}

/**
 * Creates a PostgreSQL session store.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { postgresStore } from 'sessionkit/stores/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000, keepAlive: true });
 * const sessions = createSessionManager({ secrets: process.env.SESSION_SECRET!, store: postgresStore({ pool }) });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const where = 'postgresStore()';
  assertOptionsObject(
    options,
    ['pool', 'table', 'createTable', 'sweepEveryWrites', 'timeoutMs', 'logger', 'now'],
    where,
  );
  const pool = options?.pool;
  if (typeof pool?.connect !== 'function' || typeof pool.on !== 'function') {
    throw configError(`${where}: "pool" must be a pg Pool.`, 'Pass `pool: new pg.Pool({ connectionString })`.');
  }
  if ('connectionParameters' in pool) {
    throw configError(
      `${where}: "pool" is a single pg.Client; the store runs concurrent transactions, which need a Pool.`,
      'Pass `pool: new pg.Pool({ connectionString })`.',
    );
  }
  const { sql: t, base } = quoteTable(options.table ?? 'sessionkit_sessions');
  const sweepEveryWrites = options.sweepEveryWrites ?? 500;
  assertNumberInRange(sweepEveryWrites, 1, 1_000_000, `${where}: sweepEveryWrites`);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  assertNumberInRange(timeoutMs, 20, 600_000, `${where}: timeoutMs`);
  const now = options.now ?? Date.now;
  const reporter = createReporter({ logger: options.logger });
  const background = createBackgroundWork('postgres', reporter);
  // The server must accept a COMMIT before the last quarter of the bound: that quarter is for its
  // answer to come back, so that a commit the server accepted is rarely one the app gave up on.
  const answerMarginMs = timeoutMs / 4;
  // Takes a transaction-level lock named after a new session's id: a background deletion of that
  // row waits, through it, until the transaction that may have created it has ended.
  const lockNewId = `pg_advisory_xact_lock(hashtext('sessionkit'), hashtext($1))`;
  const statements = {
    select: `SELECT ${sqlColumns} FROM ${t} WHERE id = $1`,
    insert: `INSERT INTO ${t} (${sqlColumns})
      SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10 FROM (SELECT ${lockNewId}) AS locked`,
    insertReplacing: `WITH locked AS (SELECT ${lockNewId}), old AS (SELECT id FROM ${t} WHERE id = $11 FOR UPDATE)
      INSERT INTO ${t} (${sqlColumns})
      SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10 FROM old, locked`,
    patch: `UPDATE ${t} SET
        data = (data - $2::text[]) || $3::jsonb,
        flash = (flash - $4::text[]) || $5::jsonb,
        renewed_at = $6, expires_at = $7,
        user_id = CASE WHEN $8::boolean THEN $9 ELSE user_id END,
        user_agent = CASE WHEN $10::boolean THEN $11 ELSE user_agent END,
        ip = CASE WHEN $10::boolean THEN $12 ELSE ip END
      WHERE id = $1`,
    remove: `DELETE FROM ${t} WHERE id = $1`,
    lockId: `SELECT ${lockNewId}`,
    list: `SELECT ${sqlInfoColumns} FROM ${t} WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`,
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

  let disposed = false;
  let disposing: Promise<void> | undefined;
  const onPoolError = (error: Error): void => {
    reporter.log('warn', 'postgres store: the pool dropped a broken idle connection; it reconnects on the next call', {
      store: 'postgres',
      error: error.message,
    });
  };
  pool.on('error', onPoolError);
  // Errors of a connection the store holds also fail its pending query, which is where they are handled.
  const ignoreConnectionError = (): void => {};

  /**
   * One store call: a connection from the pool, `work` with it, the connection handed back,
   * all by the deadline (one timer). At the deadline the call fails, the connection (if any) is
   * closed instead of handed back (it may be stuck on a frozen server), and `ask` refuses to send
   * anything more, so `work` cannot go on past it.
   */
  const call = <T>(deadline: Deadline, work: (ask: Ask) => Promise<T>): Promise<T> => {
    if (disposed) return Promise.reject(new Error('postgres store: the store was disposed'));
    return new Promise<T>((resolve, reject) => {
      let connection: PgPoolClient | undefined;
      let waitingFor = 'a connection from the pool';
      let finished = false;
      const finish = (error: unknown, value?: T): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (connection !== undefined) {
          connection.removeListener('error', ignoreConnectionError);
          connection.release(
            error === undefined ? undefined : error instanceof Error ? error : new Error(String(error)),
          );
        }
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const timer = setTimeout(
        () =>
          afterPendingIo(() =>
            finish(
              new StoreTimeoutError(`no answer within ${timeoutMs} ms (timeoutMs) while waiting for ${waitingFor}`),
            ),
          ),
        deadline.remainingMs(),
      );
      const ask: Ask = (step, text, values) =>
        new Promise((answered, failed) => {
          if (finished || connection === undefined)
            return failed(new Error(`postgres store: ${step} after the call ended`));
          waitingFor = `the answer to ${step}`;
          connection.query(text, values, (error, result) => (error ? failed(error) : answered(result)));
        });
      pool.connect((error, client) => {
        if (finished) {
          client?.release(); // came after the deadline: straight back to the pool
          return;
        }
        if (client === undefined || error !== undefined) {
          finish(error ?? new Error('postgres store: the pool gave no connection'));
          return;
        }
        connection = client;
        client.on('error', ignoreConnectionError);
        work(ask).then(
          (value) => finish(undefined, value),
          (failure: unknown) => finish(failure),
        );
      });
    });
  };

  let tableReady = options.createTable === false;
  let creating: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    if (tableReady) return Promise.resolve();
    creating ??= call(deadlineAfter(timeoutMs), (ask) => ask('CREATE TABLE', ddl)).then(
      () => {
        tableReady = true;
      },
      (error: unknown) => {
        creating = undefined; // retried on the next call (e.g. the database was down at boot)
        throw error;
      },
    );
    // It started no later than this call, with the same bound: it ends before this call's deadline.
    return creating;
  };
  const read = async (operation: string, statement: Statement): Promise<PgResult> => {
    const deadline = deadlineAfter(timeoutMs);
    await ready();
    return call(deadline, (ask) => ask(operation, statement.text, statement.values));
  };

  /** Runs `steps` in one transaction that commits only while the app still waits for it. */
  const transact = async (operation: string, deadline: Deadline, steps: Statement[]): Promise<PgResult> => {
    let commitSent = false;
    try {
      await ready();
      return await call(deadline, async (ask) => {
        const statementMs = Math.max(1, Math.floor(deadline.remainingMs() - answerMarginMs));
        await ask('BEGIN', beginBounded(statementMs, Math.ceil(deadline.remainingMs()) + 1));
        // The server began the transaction before this moment: its clock has run at least as long since.
        const began = performance.now();
        let result: PgResult | undefined;
        for (const step of steps) result = await ask(operation, step.text, step.values);
        const commitWithinMs = Math.floor(deadline.at - answerMarginMs - began);
        if (commitWithinMs < 1) throw new StoreTimeoutError(`too late to commit within ${timeoutMs} ms (timeoutMs)`);
        commitSent = true;
        await ask('COMMIT', commitWithin(commitWithinMs));
        return result as PgResult;
      });
    } catch (error) {
      const refused = (error as { code?: unknown }).code === commitRefusedCode;
      throw new StoreWriteError(operation, commitSent && !refused ? 'unknown' : 'unchanged', error);
    }
  };

  /** Deletes a row in the background, retrying until it is done (or the store is disposed). */
  const deleteLater = (id: string, what: string, failure: unknown): void => {
    const steps = [
      { text: statements.lockId, values: [id] },
      { text: statements.remove, values: [id] },
    ];
    background.retry(id, `deleting ${what}`, failure, async () => {
      await transact('delete', deadlineAfter(timeoutMs), steps);
    });
  };

  let createsSinceSweep = 0;
  const sweep = async (at: number): Promise<number> =>
    (await transact('sweep', deadlineAfter(timeoutMs), [{ text: statements.sweep, values: [at] }])).rowCount ?? 0;

  return {
    name: 'postgres',
    capabilities: { atomicPatch: true, userIndex: true, nativeTtl: false },
    ready,
    async get(id) {
      const row = (await read('get', { text: statements.select, values: [id] })).rows[0];
      if (row === undefined) return undefined;
      return sqlRowSession(row, row.data as Record<string, unknown>, row.flash as Record<string, unknown>);
    },
    async create(session, createOptions) {
      const deadline = deadlineAfter(timeoutMs);
      const { replacing } = createOptions;
      const values = sqlRowValues(session);
      try {
        const created = await transact(
          'create',
          deadline,
          replacing === undefined
            ? [{ text: statements.insert, values }]
            : [{ text: statements.insertReplacing, values: [...values, replacing] }],
        );
        if (created.rowCount === 0) return false; // the session it replaces is gone: revoked meanwhile
      } catch (error) {
        if (error instanceof StoreWriteError && error.outcome === 'unknown') {
          deleteLater(session.id, 'a new session whose creation is unconfirmed', error);
        }
        throw error;
      }
      if (replacing !== undefined) {
        try {
          await transact('delete', deadline, [{ text: statements.remove, values: [replacing] }]);
        } catch (error) {
          deleteLater(replacing, 'the session regenerate() replaced', error);
        }
      }
      if (++createsSinceSweep >= sweepEveryWrites) {
        createsSinceSweep = 0;
        background.start('sweep of expired sessions', async () => {
          await sweep(Math.floor(now() / 1000));
        });
      }
      return true;
    },
    async patch(id, patch) {
      const values = [
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
      ];
      const result = await transact('patch', deadlineAfter(timeoutMs), [{ text: statements.patch, values }]);
      return (result.rowCount ?? 0) > 0;
    },
    async delete(id) {
      const result = await transact('delete', deadlineAfter(timeoutMs), [{ text: statements.remove, values: [id] }]);
      return (result.rowCount ?? 0) > 0;
    },
    async listByUser(userId, at) {
      return (await read('listByUser', { text: statements.list, values: [userId, at] })).rows.map(sqlRowInfo);
    },
    async deleteByUser(userId, exceptId) {
      const steps = [{ text: statements.removeUser, values: [userId, exceptId ?? null] }];
      return (await transact('deleteByUser', deadlineAfter(timeoutMs), steps)).rows.map((row) => row.id as string);
    },
    sweep: (at = Math.floor(now() / 1000)) => sweep(at),
    dispose() {
      disposing ??= background.stop().then(() => {
        disposed = true;
        pool.removeListener('error', onPoolError);
      });
      return disposing;
    },
  };
}
