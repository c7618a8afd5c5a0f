/**
 * How the dev toolbar shows session values, both halves: the inspection endpoint (server) replaces
 * a value it must not reveal by a description of its shape, and the toolbar (browser) renders a
 * shown value as JSON and a hidden one as plain words, so that a shape never reads like a value
 * (`"string(15)"` would look like the string itself).
 *
 * @module
 */

/** A session value as the inspection endpoint sends it: shown as it is, or hidden with its shape. */
export type InspectedValue = { readonly value: unknown } | { readonly hidden: string };

function count(size: number, one: string, many: string): string {
  return `${size} ${size === 1 ? one : many}`;
}

/**
 * A value's shape without its content, in words: `string, 16 characters`, `number`,
 * `array, 3 items`, `object, 4 keys`, `null`.
 *
 * @example
 * ```ts
 * shapeOf('ada@example.com'); // 'string, 15 characters'
 * ```
 */
export function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array, ${count(value.length, 'item', 'items')}`;
  if (typeof value === 'string') return `string, ${count(value.length, 'character', 'characters')}`;
  if (typeof value === 'object') return `object, ${count(Object.keys(value).length, 'key', 'keys')}`;
  return typeof value;
}

/**
 * The toolbar's text for a value, and whether it is a hidden value's shape (shown in italics).
 *
 * @example
 * ```ts
 * displayValue({ value: 'admin' }); // { text: '"admin"', hidden: false }
 * displayValue({ hidden: 'string, 15 characters' }); // { text: 'hidden: string, 15 characters', hidden: true }
 * ```
 */
export function displayValue(entry: InspectedValue): { text: string; hidden: boolean } {
  if ('hidden' in entry) return { text: `hidden: ${entry.hidden}`, hidden: true };
  return { text: JSON.stringify(entry.value) ?? 'undefined', hidden: false };
}
