// SQLite mode: sessions in the file named by BENCH_SQLITE_FILE (a temp file the benchmark creates).
import { defineSessionkit } from 'sessionkit/astro/config';
import { sqliteStore } from 'sessionkit/stores/sqlite';

const database = process.env.BENCH_SQLITE_FILE;
if (!database) throw new Error('bench sqlite: set BENCH_SQLITE_FILE.');

export default defineSessionkit({ store: sqliteStore({ database }) });
