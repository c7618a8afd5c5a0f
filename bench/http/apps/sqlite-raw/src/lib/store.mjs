// The hand-written minimum for a session in SQLite: a table keyed by a random id, one prepared
// SELECT per request. The same file settings as sqliteStore (WAL, synchronous = NORMAL).
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';

const file = process.env.BENCH_SQLITE_FILE;
if (!file) throw new Error('bench sqlite-raw: set BENCH_SQLITE_FILE.');
const database = new DatabaseSync(file);
database.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
database.exec('CREATE TABLE IF NOT EXISTS raw_sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL)');
const select = database.prepare('SELECT data FROM raw_sessions WHERE id = ?');
const insert = database.prepare('INSERT INTO raw_sessions (id, data) VALUES (?, ?)');

/** The session data of `id`, or undefined. */
export function readSession(id) {
  if (id === undefined) return undefined;
  const row = select.get(id);
  return row === undefined ? undefined : JSON.parse(row.data);
}

/** Stores `data` under a new random id and returns the id. */
export function createSession(data) {
  const id = randomBytes(32).toString('base64url');
  insert.run(id, JSON.stringify(data));
  return id;
}
