/**
 * Construction-time option checks shared by every `create*` factory.
 *
 * @module
 */
import { configError } from './errors.ts';

/** Edit distance between two short strings (for "did you mean" hints). */
function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

/** The closest known name to `name`, if it is plausibly a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Throws `ERR_CONFIG_INVALID` unless `value` is a plain object whose keys are all in `known`.
 * The message names the unknown key and, when it looks like a typo, the key that was meant.
 *
 * @param value - the options object given by the user (`undefined` is accepted as empty)
 * @param known - the accepted keys
 * @param where - a label for messages, e.g. `createSessionManager()`
 */
export function assertOptionsObject(value: unknown, known: readonly string[], where: string): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError(`${where}: options must be an object, got ${describeValue(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const meant = closestName(key, known);
    throw configError(
      `${where}: unknown option "${key}".`,
      meant ? `Did you mean "${meant}"?` : `Known options: ${known.join(', ')}.`,
    );
  }
}

/** Throws `ERR_CONFIG_INVALID` unless `value` is a finite number within [min, max]. */
export function assertNumberInRange(value: unknown, min: number, max: number, label: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw configError(`${label} must be a number between ${min} and ${max}, got ${describeValue(value)}.`);
  }
}

/** A short, secret-free description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
