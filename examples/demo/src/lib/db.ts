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
// The busy timeout first: two instances starting on one data folder both switch the file to WAL,
// which takes a lock; the second must wait for it instead of failing at startup.
db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
db.exec(`
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
