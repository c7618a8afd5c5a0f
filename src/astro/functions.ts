/**
 * Functions in integration options (`allow`, `access.check`, ...) cannot travel through Astro's
 * config into the server bundle as values, so the integration rebuilds them from their source
 * text. That is only correct for self-contained functions: one that closes over a variable of
 * `astro.config.mjs` would silently lose it in production. So each function's free variables
 * are computed with a real scope analysis (acorn + eslint-scope) at config time, and any
 * reference that is not a JavaScript built-in is a configuration error pointing to the runtime
 * config file, where closures work.
 *
 * Runs in the Astro config process only (never in the server bundle).
 *
 * @module
 */
import { parse } from 'acorn';
import { analyze } from 'eslint-scope';
import { configError } from '../core/errors.ts';

/** Globals a function from the config may use: they exist identically in the server bundle. */
const allowedGlobals = new Set([
  'Array',
  'ArrayBuffer',
  'BigInt',
  'Boolean',
  'Date',
  'Error',
  'Infinity',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'Symbol',
  'TypeError',
  'URL',
  'URLSearchParams',
  'WeakMap',
  'WeakSet',
  'decodeURIComponent',
  'encodeURIComponent',
  'globalThis',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'structuredClone',
  'undefined',
  'Headers',
  'Request',
  'Response',
  'crypto',
  'TextEncoder',
  'TextDecoder',
  'arguments',
]);

/** Parses a function's source text into an expression, handling method shorthand (`allow(s) { ... }`). */
function toExpressionSource(source: string): string {
  const attempts = [`(${source})`, `({ ${source} })`];
  for (const attempt of attempts) {
    try {
      parse(attempt, { ecmaVersion: 'latest', sourceType: 'module' });
      return attempt.startsWith('({') ? `(${attempt}).${methodName(source)}` : attempt;
    } catch {
      // try the next shape
    }
  }
  return '';
}

function methodName(source: string): string {
  const match = /^\s*(?:async\s+)?\*?\s*([A-Za-z_$][\w$]*)\s*\(/.exec(source);
  return match?.[1] ?? '';
}

/** The names a function's source refers to that it does not declare itself. */
export function freeVariables(source: string): string[] {
  const expression = toExpressionSource(source);
  if (expression === '') return ['<unparseable source>'];
  const ast = parse(expression, { ecmaVersion: 'latest', sourceType: 'module', ranges: true });
  const scopes = analyze(ast as never, { ecmaVersion: 2022, sourceType: 'module' });
  const names = new Set<string>();
  for (const reference of scopes.globalScope?.through ?? []) names.add(reference.identifier.name);
  return [...names];
}

/**
 * Checks that `fn` can be rebuilt from source in the server bundle and returns that source as a
 * JavaScript expression.
 *
 * @param fn - the function from the integration options
 * @param label - where it sits, e.g. `protect[3].allow`
 * @throws `ERR_CONFIG_INVALID` naming the captured variables and the fix
 */
export function serializableFunctionSource(fn: (...args: never[]) => unknown, label: string): string {
  const source = Function.prototype.toString.call(fn);
  if (/\[native code\]\s*\}\s*$/.test(source)) {
    throw configError(`${label} is a native or bound function and cannot be rebuilt in the server bundle.`, moveHint);
  }
  const captured = freeVariables(source).filter((name) => !allowedGlobals.has(name));
  if (captured.length > 0) {
    throw configError(
      `${label} uses ${captured.map((name) => `"${name}"`).join(', ')} from outside the function. Functions in astro.config options are rebuilt from their source text in the server bundle, so those values would be lost in production.`,
      moveHint,
    );
  }
  return toExpressionSource(source);
}

const moveHint =
  'Move this function to the runtime config file (src/sessionkit.ts, `export default defineSessionkit({ ... })`), where it keeps its imports and closures in dev and production.';

/**
 * Writes `value` as a JavaScript expression: JSON for data, validated source for functions.
 *
 * @throws `ERR_CONFIG_INVALID` for values that do not survive the trip (closures, class
 * instances, symbols, bigints, dates, regular expressions)
 */
export function toModuleSource(value: unknown, label: string): string {
  if (typeof value === 'function') return serializableFunctionSource(value as (...args: never[]) => unknown, label);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw configError(`${label} must be a finite number.`);
    return JSON.stringify(value);
  }
  if (value === undefined) return 'undefined';
  if (Array.isArray(value))
    return `[${value.map((entry, index) => toModuleSource(entry, `${label}[${index}]`)).join(', ')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).map(
      ([key, entry]) => `${JSON.stringify(key)}: ${toModuleSource(entry, `${label}.${key}`)}`,
    );
    return `{ ${entries.join(', ')} }`;
  }
  throw configError(
    `${label} cannot be written into the server bundle (${Object.prototype.toString.call(value)}).`,
    'Use plain data in astro.config options; put anything else in the runtime config file (src/sessionkit.ts).',
  );
}
