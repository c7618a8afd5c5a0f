/**
 * Deep copies of parsed JSON values, several times faster than parsing the text again or
 * `structuredClone`: the sealed-cookie backend hands every request its own copy of a remembered
 * session payload.
 *
 * @module
 */
import { defineValue } from './session.ts';

/**
 * Copies a value made of plain objects, arrays and primitives (what `JSON.parse` returns).
 * A `__proto__` key is copied as an own property, as `JSON.parse` makes it, never as a prototype.
 *
 * @throws RangeError when the value nests deeper than the call stack allows
 */
export function copyJsonValue<Value>(value: Value): Value {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let index = 0; index < value.length; index++) copy[index] = copyJsonValue(value[index]);
    return copy as Value;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copyJsonValue((value as Record<string, unknown>)[key]);
    if (key === '__proto__') defineValue(copy, key, item);
    else copy[key] = item;
  }
  return copy as Value;
}
