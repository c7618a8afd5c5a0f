/**
 * Reads one option of the app's `sessionkit({ ... })` call as written in `astro.config.mjs`, with
 * the imports it uses, so that an error about an option that belongs in `src/sessionkit.ts` can
 * show the code to move as the user wrote it. A small scanner (strings, template literals and
 * comments skipped, brackets counted), not a parser: when it cannot find the option it says so
 * and the caller falls back to a placeholder.
 *
 * Runs in the Astro config process only.
 *
 * @module
 */

/** An option as written in the config file. */
export interface OptionText {
  /** The property as written: `store: memoryStore()`, `onEvent(event) { ... }` or `store`. */
  readonly property: string;
  /** Import declarations for the names the property uses, reduced to those names. */
  readonly imports: readonly string[];
  /** Names the property uses that the config file declares itself (they must move too). */
  readonly localNames: readonly string[];
}

/** The offset just past the string, template literal or comment starting at `start`, or `start`. */
function skipLiteral(source: string, start: number): number {
  const char = source[start];
  if (char === '/' && source[start + 1] === '/') {
    const end = source.indexOf('\n', start);
    return end === -1 ? source.length : end;
  }
  if (char === '/' && source[start + 1] === '*') {
    const end = source.indexOf('*/', start + 2);
    return end === -1 ? source.length : end + 2;
  }
  if (char !== '"' && char !== "'" && char !== '`') return start;
  let index = start + 1;
  while (index < source.length && source[index] !== char) {
    if (source[index] === '\\') index++;
    else if (char === '`' && source[index] === '$' && source[index + 1] === '{') {
      index = closingOf(source, index + 1);
    }
    index++;
  }
  return index + 1;
}

/**
 * Walks `source` from `from`, skipping strings, template literals and comments, and calls `visit`
 * with each character and the bracket depth after it; stops at the first `visit` that says so and
 * returns that offset (or the end of the text).
 */
function walk(source: string, from: number, visit: (char: string, index: number, depth: number) => boolean): number {
  let depth = 0;
  for (let index = from; index < source.length; index++) {
    const skipped = skipLiteral(source, index);
    if (skipped !== index) {
      index = skipped - 1;
      continue;
    }
    const char = source[index] as string;
    if ('([{'.includes(char)) depth++;
    else if (')]}'.includes(char)) depth--;
    if (visit(char, index, depth)) return index;
  }
  return source.length;
}

/** The offset of the bracket closing the one at `open`. */
function closingOf(source: string, open: number): number {
  return walk(source, open, (char, _, depth) => depth === 0 && ')]}'.includes(char));
}

/** The top-level properties of the object literal whose `{` is at `open`, as written. */
function propertiesOf(source: string, open: number): string[] {
  const properties: string[] = [];
  let start = open + 1;
  const close = walk(source, open, (char, index, depth) => {
    if (char === ',' && depth === 1) {
      properties.push(source.slice(start, index));
      start = index + 1;
    }
    return depth === 0 && ')]}'.includes(char);
  });
  properties.push(source.slice(start, close));
  return properties.map(withoutComments).filter((property) => property !== '');
}

/** A property's text without the comments around it. */
function withoutComments(text: string): string {
  return text
    .replace(/^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '')
    .replace(/(?:\s|\/\/[^\n]*$|\/\*[\s\S]*?\*\/)+$/, '');
}

/** The offset of line `line`, column `column` (both 1-based). */
function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = source.indexOf('\n', offset);
    if (next === -1) return source.length;
    offset = next + 1;
  }
  return offset + column - 1;
}

/** The local names an import clause binds, with the specifier text that binds each. */
function importBindings(clause: string): { local: string; text: string; named: boolean }[] {
  const bindings: { local: string; text: string; named: boolean }[] = [];
  const named = /\{([\s\S]*)\}/.exec(clause);
  for (const entry of named?.[1]?.split(',') ?? []) {
    const text = entry.trim();
    if (text === '' || text.startsWith('type ')) continue;
    const local = /(?:\bas\s+)?([A-Za-z_$][\w$]*)$/.exec(text)?.[1];
    if (local !== undefined) bindings.push({ local, text, named: true });
  }
  const outside = clause.replace(/\{[\s\S]*\}/, '').trim();
  for (const part of outside.split(',')) {
    const text = part.trim();
    const local = /^(?:\*\s*as\s+)?([A-Za-z_$][\w$]*)$/.exec(text)?.[1];
    if (local !== undefined && local !== 'type') bindings.push({ local, text, named: false });
  }
  return bindings;
}

const importPattern = /^[ \t]*import\s+([\w$*{}\s,]+?)\s+from\s+(['"])([^'"]+)\2\s*;?/gm;
const declarationPattern =
  /^[ \t]*(?:export\s+)?(?:const|let|var|function\*?|class|async\s+function)\s+([A-Za-z_$][\w$]*)/gm;

/**
 * The property `key` of the object passed to the call at `line`:`column` of `source`.
 *
 * @param source - the config file's text
 * @param line - the call's line (1-based), as in a stack frame
 * @param column - the call's column (1-based)
 * @param key - the option name
 * @param rewriteSpecifier - maps a relative import specifier of the config file to one valid
 *   from the file the option moves to
 * @returns `undefined` when the call, its object argument or the property cannot be found
 *
 * @example
 * ```ts
 * optionText("sessionkit({ store: memoryStore() })", 1, 1, 'store', (s) => s)?.property; // 'store: memoryStore()'
 * ```
 */
export function optionText(
  source: string,
  line: number,
  column: number,
  key: string,
  rewriteSpecifier: (specifier: string) => string,
): OptionText | undefined {
  const call = offsetOf(source, line, column);
  const paren = source.indexOf('(', call);
  if (paren === -1) return undefined;
  const open = /^\s*\{/.exec(source.slice(paren + 1)) === null ? -1 : source.indexOf('{', paren);
  if (open === -1) return undefined;
  const keyPattern = new RegExp(`^(?:async\\s+)?\\*?\\s*(?:${key}|'${key}'|"${key}")\\s*(?::|\\(|$)`);
  const property = propertiesOf(source, open).find((text) => keyPattern.test(text));
  if (property === undefined) return undefined;

  const used = new Set(property.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const imports: string[] = [];
  const imported = new Set<string>();
  for (const match of source.matchAll(importPattern)) {
    const [, clause, quote, specifier] = match as unknown as [string, string, string, string];
    const bindings = importBindings(clause).filter((binding) => used.has(binding.local));
    if (bindings.length === 0) continue;
    for (const binding of bindings) imported.add(binding.local);
    const defaults = bindings.filter((binding) => !binding.named).map((binding) => binding.text);
    const named = bindings.filter((binding) => binding.named).map((binding) => binding.text);
    const parts = [...defaults, ...(named.length > 0 ? [`{ ${named.join(', ')} }`] : [])];
    const target = specifier.startsWith('.') ? rewriteSpecifier(specifier) : specifier;
    imports.push(`import ${parts.join(', ')} from ${quote}${target}${quote};`);
  }
  const localNames = [...source.matchAll(declarationPattern)]
    .map((match) => match[1] as string)
    .filter((name) => used.has(name) && !imported.has(name));
  return { property, imports, localNames };
}
