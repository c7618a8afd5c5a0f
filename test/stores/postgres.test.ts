import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres.ts';
import { ensurePostgres, type PostgresSettings } from '../support/services.ts';
import { describeStoreConformance } from './conformance.ts';

const table = `sessionkit_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let settings: PostgresSettings;

describeStoreConformance('postgres', async () => {
  settings = await ensurePostgres();
  const pool = new pg.Pool({ ...settings, max: 10, connectionTimeoutMillis: 2000 });
  const otherPool = new pg.Pool({ ...settings, max: 10, connectionTimeoutMillis: 2000 });
  const store = postgresStore({ pool, table });
  const second = postgresStore({ pool: otherPool, table });
  await Promise.all([store.ready(), second.ready()]);
  return {
    store,
    second,
    async dump() {
      return JSON.stringify((await pool.query(`SELECT * FROM "${table}"`)).rows);
    },
    async close() {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      await Promise.all([pool.end(), otherPool.end()]);
    },
    async afterDispose() {
      expect(pool.listenerCount('error')).toBe(0); // no longer listening
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // the app's pool is open
    },
  };
});

describe('postgresStore specifics', () => {
  let pool: pg.Pool;
  const own = `${table}_x`;
  beforeAll(async () => {
    settings = await ensurePostgres();
    pool = new pg.Pool({ ...settings, max: 4, connectionTimeoutMillis: 2000 });
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${own}"`);
    await pool.end();
  });

  it('creates the table once, even when several instances start together, with an index on user_id', async () => {
    await Promise.all(Array.from({ length: 5 }, () => postgresStore({ pool, table: own }).ready()));
    const indexes = (await pool.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [own])).rows;
    expect(indexes.map((row) => row.indexname)).toEqual([`${own}_expires_at_idx`, `${own}_pkey`, `${own}_user_id_idx`]);
  });

  it('patches jsonb per key (an object value is replaced, not merged) and sweeps expired rows', async () => {
    const store = postgresStore({ pool, table: own });
    const base = { secretHash: 'h', userId: undefined, createdAt: 1, renewedAt: 1, flash: {} };
    await store.create({ ...base, id: 'a', expiresAt: 100, data: { keep: 1, obj: { x: 1, y: 2 } } }, { deadline: 0 });
    await store.create({ ...base, id: 'b', expiresAt: 4e9, data: {} }, { deadline: 0 });
    expect(
      await store.patch('a', {
        setData: { obj: { z: 3 }, "it's": 'quoted' },
        unsetData: ['keep'],
        setFlash: {},
        unsetFlash: [],
        renewedAt: 2,
        expiresAt: 200,
      }),
    ).toBe(true);
    expect((await store.get('a'))!.data).toEqual({ obj: { z: 3 }, "it's": 'quoted' });
    expect(await store.sweep(300)).toBe(1);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeDefined();
  });

  it('rejects bad options', () => {
    expect(() => postgresStore({ pool: {} as never })).toThrow(/pg Pool/);
    expect(() => postgresStore({ pool, table: 'a;b' })).toThrow(/identifier/);
  });
});
