/**
 * Keeps the docs and the tested code identical. A code block preceded by
 * `<!-- snippet: path/to/file -->` must be exactly that file, and the files are the ones the
 * migration tests (or the Astro fixture tests) run. In the migration guides, every TypeScript,
 * JavaScript or Astro block that is not a "Before" example must carry such a marker, and every
 * snippet file must be shown somewhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const snippetsRoot = join(repoRoot, 'test/migration/snippets');
const guides = readdirSync(join(repoRoot, 'docs/migration'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/migration/${name}`);
const otherDocs = ['docs/astro.md', 'docs/configuration.md', 'docs/getting-started.md', 'docs/runtimes.md'].filter(
  (path) => existsSync(join(repoRoot, path)),
);
const codeLanguages = new Set(['ts', 'js', 'mjs', 'astro', 'tsx']);

interface Block {
  readonly doc: string;
  readonly line: number;
  readonly language: string;
  readonly content: string;
  readonly snippet: string | undefined;
  readonly before: boolean;
}

/** The fenced blocks of a markdown file, with the snippet marker and "Before" label that precede each. */
function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(repoRoot, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  let before = false;
  let snippet: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const marker = /^<!-- snippet: (\S+) -->$/.exec(line);
    if (marker !== null) {
      snippet = marker[1];
      continue;
    }
    if (line.startsWith('**Before**')) before = true;
    const fence = /^```(\w*)$/.exec(line);
    if (fence === null) {
      if (line.trim() !== '' && snippet !== undefined)
        throw new Error(`${doc}:${index + 1}: text between marker and block`);
      continue;
    }
    const start = index;
    const content: string[] = [];
    for (index++; index < lines.length && lines[index] !== '```'; index++) content.push(lines[index] as string);
    blocks.push({ doc, line: start + 1, language: fence[1] ?? '', content: content.join('\n'), snippet, before });
    snippet = undefined;
    before = false;
  }
  return blocks;
}

/** Code files of the snippet folders (not what building them as apps leaves there, nor their package.json). */
function snippetFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist', '.astro'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return snippetFiles(path);
    return /\.(ts|mts|js|mjs|astro)$/.test(entry.name) ? [relative(repoRoot, path)] : [];
  });
}

const allBlocks = [...guides, ...otherDocs].flatMap(blocksOf);
const marked = allBlocks.filter((block) => block.snippet !== undefined);

describe('docs/migration and the tested snippets are identical', () => {
  it('there are four guides, each with tested snippets', () => {
    expect(guides.sort()).toEqual([
      'docs/migration/astro-session.md',
      'docs/migration/astro-sessionkit.md',
      'docs/migration/iron-session.md',
      'docs/migration/kit-session.md',
    ]);
    for (const guide of guides) expect(marked.filter((block) => block.doc === guide).length, guide).toBeGreaterThan(2);
  });

  it.each(marked.map((block) => [`${block.doc}:${block.line} ← ${block.snippet}`, block] as const))(
    '%s',
    (_, block) => {
      const path = join(repoRoot, block.snippet!);
      expect(existsSync(path), `${block.snippet} does not exist`).toBe(true);
      const file = readFileSync(path, 'utf8').replace(/\n+$/, '');
      expect(block.content).toBe(file);
    },
  );

  it('every code example in a migration guide that is not a "Before" block is a tested file', () => {
    const untested = allBlocks
      .filter((block) => guides.includes(block.doc) && codeLanguages.has(block.language))
      .filter((block) => !block.before && block.snippet === undefined)
      .map((block) => `${block.doc}:${block.line}`);
    expect(untested).toEqual([]);
  });

  it('every snippet file is shown in the docs (app stand-ins under src/lib/ excepted)', () => {
    const shown = new Set(marked.map((block) => block.snippet));
    const missing = snippetFiles(snippetsRoot)
      .filter((path) => !path.includes('/src/lib/'))
      .filter((path) => !shown.has(path));
    expect(missing).toEqual([]);
  });
});

/** The conformance ids (`ask-07`, `ks-11..13`, expanded) in `text`. */
function conformanceIds(text: string, prefix: string): Set<string> {
  const ids = new Set<string>();
  for (const match of text.matchAll(new RegExp(`\\b${prefix}-(\\d+)([a-z]?)(?:\\.\\.(\\d+))?\\b`, 'g'))) {
    const first = Number(match[1]);
    const last = match[3] === undefined ? first : Number(match[3]);
    for (let id = first; id <= last; id++) ids.add(`${prefix}-${String(id).padStart(2, '0')}${match[2] ?? ''}`);
  }
  return ids;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'dist', '.astro', 'fixtures', 'apps', 'snippets'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return /\.(test|types)\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('each guide’s conformance table lists every conformance test, and only those', () => {
  const tests = testFiles(join(repoRoot, 'test'))
    .map((path) => readFileSync(path, 'utf8'))
    .join('\n');
  it.each([
    ['docs/migration/astro-sessionkit.md', 'ask'],
    ['docs/migration/astro-session.md', 'as'],
    ['docs/migration/kit-session.md', 'ks'],
  ])('%s', (guide, prefix) => {
    const text = readFileSync(join(repoRoot, guide), 'utf8');
    const section = text.slice(text.indexOf('\n## Conformance'));
    expect(section.length, `${guide} has a "## Conformance" section`).toBeLessThan(text.length);
    const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
    for (const line of rows.slice(1)) {
      const cells = line.split(' | ');
      expect(cells[1], `${guide}: ${line}`).toMatch(/^(same|differs)\b/);
    }
    const listed = conformanceIds(rows.map((line) => line.split(' | ').at(-1)).join(' '), prefix);
    expect([...listed].sort()).toEqual([...conformanceIds(tests, prefix)].sort());
  });
});
