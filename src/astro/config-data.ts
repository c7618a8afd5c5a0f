/**
 * Integration options are plain data: Astro does not carry `astro.config` values into the server
 * bundle, so the integration writes them there as JSON. Behaviour (rules with `allow`, access
 * hooks, context stores) lives in the runtime config file, `src/sessionkit.ts`, which is bundled
 * like any module. A function in the options is refused when the config loads, with the rule it
 * belongs to rewritten for that file, so the fix is a copy and paste.
 *
 * Runs in the Astro config process only (never in the server bundle).
 *
 * @module
 */
import { configError } from '../core/errors.ts';

const indent = '  ';

/** A value as it would be written in a config file: single-quoted strings, functions as their source. */
function sourceOf(value: unknown, depth: number, key?: string): string {
  if (typeof value === 'function') {
    const source = Function.prototype.toString.call(value);
    // Method shorthand (`allow(session) { ... }`) already carries its key.
    const name = key?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const shorthand = name !== undefined && new RegExp(`^(async\\s+)?\\*?\\s*${name}\\s*\\(`).test(source);
    return shorthand ? source : `${key === undefined ? '' : `${key}: `}${source}`;
  }
  const prefix = key === undefined ? '' : `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : `'${key}'`}: `;
  if (typeof value === 'string') return `${prefix}'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) {
    return `${prefix}[${value.map((entry) => sourceOf(entry, depth + 1)).join(', ')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([name, entry]) => sourceOf(entry, depth + 1, name));
    const oneLine = `{ ${entries.join(', ')} }`;
    if (oneLine.length <= 100 && !oneLine.includes('\n')) return `${prefix}${oneLine}`;
    const inner = indent.repeat(depth + 1);
    return `${prefix}{\n${entries.map((entry) => `${inner}${entry},`).join('\n')}\n${indent.repeat(depth)}}`;
  }
  return `${prefix}${String(value)}`;
}

/** `export default defineSessionkit({ ... })` holding `entries`, as the runtime config file would. */
function runtimeConfigSnippet(configFile: string, entries: string[]): string {
  return [
    `// ${configFile}`,
    "import { defineSessionkit } from 'sessionkit/astro/config';",
    '',
    'export default defineSessionkit({',
    ...entries.map((entry) => `${indent}${entry},`),
    '});',
  ].join('\n');
}

/** True for `() => true` and its spellings: a rule that only asks for a signed-in session. */
function alwaysTrue(fn: unknown): boolean {
  const source = Function.prototype.toString.call(fn).replace(/\s+/g, '');
  return (
    /^(?:async)?(?:\(\w*\)|\w+)=>(?:true|\{returntrue;?\})$/.test(source) ||
    /^(?:async)?(?:function\w*|\w+)\(\w*\)\{returntrue;?\}$/.test(source)
  );
}

/** The path of the first function inside `value` (`.allow`, `[2]`, ...), or `undefined`. */
function findFunction(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'function') return path;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  const entries = Array.isArray(value)
    ? value.map((entry, index): [string, unknown] => [`[${index}]`, entry])
    : Object.entries(value).map(([key, entry]): [string, unknown] => [`.${key}`, entry]);
  for (const [step, entry] of entries) {
    const found = findFunction(entry, `${path}${step}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The refusal of a function at `path` of the options, with the code to move. */
function functionRefusal(options: Record<string, unknown>, path: string, configFile: string): Error {
  const where = `sessionkit()${path}`;
  const rule = /^\.protect\[(\d+)\]/.exec(path);
  if (rule !== null) {
    const index = Number(rule[1]);
    const moved = (options.protect as unknown[])[index] as Record<string, unknown>;
    const signedIn = path === `.protect[${index}].allow` && alwaysTrue(moved.allow);
    const hint = signedIn
      ? `This \`allow\` only asks for a signed-in session: write \`{ pattern: ${sourceOf(moved.pattern, 0)}, authenticated: true }\` instead, which is data and stays in astro.config.mjs. Or move the rule as it is:\n\n`
      : '';
    return configError(
      `${where} is a function: move this rule to ${configFile} (astro.config options are plain data; functions in them do not reach the server).`,
      `${hint}${runtimeConfigSnippet(configFile, [`protect: [${sourceOf(moved, 1)}]`])}\n\nRules from ${configFile} are added after the ones in astro.config.mjs.`,
    );
  }
  const top = /^\.(\w+)/.exec(path)?.[1] ?? '';
  if (top === 'access' || top === 'runWithContext' || top === 'getContextStore') {
    const keys = top === 'access' ? ['access'] : ['runWithContext', 'getContextStore'];
    const entries = keys.filter((key) => options[key] !== undefined).map((key) => sourceOf(options[key], 1, key));
    return configError(
      `${where} is a function: move ${keys.map((key) => `"${key}"`).join(' and ')} to ${configFile} (astro.config options are plain data; functions in them do not reach the server).`,
      runtimeConfigSnippet(configFile, entries),
    );
  }
  return configError(
    `${where} is a function: astro.config options are plain data, and functions in them do not reach the server.`,
    `Give a plain value here; behaviour belongs in ${configFile} (see docs/configuration.md, "The runtime config file").`,
  );
}

/**
 * Checks that the integration options are JSON data and returns them as a JavaScript expression.
 *
 * @param configFile - the runtime config file the fix names (the app's `configFile`, or `src/sessionkit.ts`)
 * @throws `ERR_CONFIG_INVALID` naming the option path: for a function, with the code to put in
 *   `configFile`; for values JSON cannot carry (class instances, dates, symbols, bigints, non-finite numbers)
 */
export function dataModuleSource(options: Record<string, unknown>, configFile: string): string {
  const found = findFunction(options, '', new Set());
  if (found !== undefined) throw functionRefusal(options, found, configFile);
  const check = (value: unknown, path: string): void => {
    if (value === undefined || value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw configError(`sessionkit()${path} must be a finite number.`);
      return;
    }
    if (Array.isArray(value)) {
      for (const [index, entry] of value.entries()) check(entry, `${path}[${index}]`);
      return;
    }
    if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [key, entry] of Object.entries(value)) check(entry, `${path}.${key}`);
      return;
    }
    throw configError(
      `sessionkit()${path} cannot be written into the server bundle (${Object.prototype.toString.call(value)}).`,
      `Use plain data in astro.config options; put anything else in ${configFile}.`,
    );
  };
  check(options, '');
  return JSON.stringify(options);
}
