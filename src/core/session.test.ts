import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { createSessionManager } from './manager.ts';

type Data = { count?: number; name?: string; flag?: boolean; list?: string[] };
type Flash = { notice?: string };

const manager = createSessionManager<Data, Flash>({ secrets: testSecrets[0] });
const fresh = async () => (await manager.load(null)).session;

describe('Session handle', () => {
  it('get / set (value and updater) / unset / has', async () => {
    const session = await fresh();
    expect(session.get('count')).toBeUndefined();
    session.set('count', 1);
    session.set('count', (count) => (count ?? 0) + 1);
    expect(session.get('count')).toBe(2);
    session.unset('count');
    expect(session.has('count')).toBe(false);
  });

  it('has() is true for falsy values', async () => {
    const session = await fresh();
    session.set('count', 0);
    session.set('name', '');
    session.set('flag', false);
    expect([session.has('count'), session.has('name'), session.has('flag')]).toEqual([true, true, true]);
  });

  it('setting undefined unsets the key', async () => {
    const session = await fresh();
    session.set('name', 'x');
    session.set('name', undefined);
    expect(session.has('name')).toBe(false);
  });

  it('isModified tracks writes, flash reads and rotation', async () => {
    const session = await fresh();
    expect(session.isModified).toBe(false);
    expect(session.get('name')).toBeUndefined();
    expect(session.has('name')).toBe(false);
    expect(session.isModified).toBe(false);
    session.set('name', 'a');
    expect(session.isModified).toBe(true);
    const other = await fresh();
    other.regenerate();
    expect(other.isModified).toBe(true);
  });

  it('flash values are read once; get() also consumes them', async () => {
    const session = await fresh();
    session.flash('notice', 'hi');
    expect(session.has('notice')).toBe(true);
    expect(session.flash('notice')).toBe('hi');
    expect(session.flash('notice')).toBeUndefined();
    session.flash('notice', 'again');
    expect(session.get('notice' as never)).toBe('again');
    expect(session.get('notice' as never)).toBeUndefined();
  });

  it('regenerate() issues a new 256-bit id and keeps the data', async () => {
    const session = await fresh();
    session.set('name', 'kept');
    const before = session.id;
    session.regenerate();
    expect(session.id).not.toBe(before);
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.get('name')).toBe('kept');
  });

  it('destroy() drops the data and refuses further writes (no silent new session)', async () => {
    const session = await fresh();
    session.set('name', 'x');
    session.destroy();
    expect(session.isDestroyed).toBe(true);
    expect(session.has('name')).toBe(false);
    expect(() => session.set('name', 'y')).toThrow(expect.objectContaining({ code: 'ERR_SESSION_DESTROYED' }));
  });

  it('prototype-pollution keys never reach Object.prototype', async () => {
    const keys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
    await fc.assert(
      fc.asyncProperty(keys, fc.jsonValue(), async (key, value) => {
        const session = await fresh();
        const loose = session as unknown as {
          set(k: string, v: unknown): void;
          get(k: string): unknown;
          flash(k: string, v?: unknown): unknown;
          has(k: string): boolean;
        };
        expect((session as unknown as typeof loose).has(key)).toBe(false);
        expect(loose.get(key)).toBeUndefined();
        loose.set(key, value === undefined ? null : { polluted: true, value });
        loose.flash(key, { polluted: true });
        const jar = await manager.commit(session);
        const reloaded = (await manager.load(jar.map((line) => line.split(';')[0]).join('; '))).session;
        (reloaded as unknown as typeof loose).get(key);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        expect(Object.getPrototypeOf(reloaded.data)).toBe(Object.prototype);
      }),
      { numRuns: 200 },
    );
  });
});
