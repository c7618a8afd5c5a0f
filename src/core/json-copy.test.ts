import { describe, expect, it } from 'vitest';
import { copyJsonValue } from './json-copy.ts';

describe('copyJsonValue', () => {
  it('copies nested objects and arrays into new objects equal to the original', () => {
    const original = JSON.parse('{"a":1,"b":[1,{"c":"d"},null,true],"e":{"f":{"g":[]}},"2":"two"}');
    const copy = copyJsonValue(original);
    expect(copy).toEqual(original);
    expect(Object.keys(copy)).toEqual(Object.keys(original));
    expect(copy).not.toBe(original);
    expect(copy.b).not.toBe(original.b);
    expect(copy.b[1]).not.toBe(original.b[1]);
    copy.e.f.g.push(1);
    expect(original.e.f.g).toEqual([]);
  });

  it('returns primitives as they are', () => {
    for (const value of [null, 0, -1.5, 'text', true, false]) expect(copyJsonValue(value)).toBe(value);
  });

  it('keeps a "__proto__" key an own property, as JSON.parse does, without changing the prototype', () => {
    const original = JSON.parse('{"__proto__":{"isAdmin":true},"x":{"__proto__":[1]}}');
    const copy = copyJsonValue(original);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(Object.getPrototypeOf(copy.x)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(original));
  });

  it('throws a RangeError (never a wrong copy) for values nested deeper than the stack', () => {
    const deep: unknown = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`); // V8 parses without recursion
    expect(() => copyJsonValue(deep)).toThrow(RangeError);
  });
});
