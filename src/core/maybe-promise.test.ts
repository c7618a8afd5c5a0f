import { describe, expect, it } from 'vitest';
import { mapMaybe, promiseOf } from './maybe-promise.ts';

describe('mapMaybe', () => {
  it('maps a plain value synchronously', () => {
    expect(mapMaybe(2, (value) => value * 3)).toBe(6);
  });

  it('maps a promise after it settles, and passes rejections through', async () => {
    const mapped = mapMaybe(Promise.resolve(2), (value) => value * 3);
    expect(mapped).toBeInstanceOf(Promise);
    expect(await mapped).toBe(6);
    await expect(mapMaybe(Promise.reject(new Error('no')), () => 1)).rejects.toThrow('no');
  });
});

describe('promiseOf', () => {
  it('resolves with a synchronous result, and with an awaited one', async () => {
    const synchronous = promiseOf(() => 'now');
    expect(synchronous).toBeInstanceOf(Promise);
    expect(await synchronous).toBe('now');
    expect(await promiseOf(async () => 'later')).toBe('later');
  });

  it('turns a throw into a rejection instead of throwing', async () => {
    let result: Promise<never> | undefined;
    expect(() => {
      result = promiseOf(() => {
        throw new Error('bad');
      });
    }).not.toThrow();
    await expect(result).rejects.toThrow('bad');
  });
});
