/**
 * The demo's own SQLite database (node:sqlite, built into Node): the users table. With the
 * default store, sessionkit keeps its sessions table in the same file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { dataDir } from './settings.ts';

mkdirSync(dataDir, { recursive: true, mode: 0o700 });

/** Absolute path of the SQLite file. */
export const databasePath = join(dataDir, 'demo.db');

/** One connection for the whole process (node:sqlite is synchronous and fast for this). */
export const db = new DatabaseSync(databasePath);

/**
 * Runs `sql`, retrying for up to 5 s while another process holds a lock. Two instances starting
 * on one data folder both switch a new file to WAL; SQLite can answer "database is locked" to
 * that switch at once, without waiting out the busy timeout, so the loser tries again.
 */
function execWhileLocked(sql: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      db.exec(sql);
      return;
    } catch (error) {
      // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included; never the message text.
      const code = (error as { errcode?: unknown } | null)?.errcode;
      const locked = typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
      if (!locked || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 20); // module setup is synchronous: a short blocking pause
    }
  }
}

execWhileLocked('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
execWhileLocked(`
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
  )
`);
