/**
 * The fenced code blocks of README.md and docs/, with what the docs tests do with each.
 *
 * A block's treatment comes from the HTML comment just before it (invisible on GitHub and npm):
 *
 * - `<!-- snippet: path -->`: the block is that file, which other tests run
 *   (`test/migration/docs-sync.test.ts` keeps them identical).
 * - `<!-- docs-test: partial; <declarations> -->`: a fragment; it is type-checked after the given
 *   TypeScript declarations (what the surrounding code would provide).
 *   `<!-- docs-test: partial, function body; <declarations> -->`: the same, for the body of a
 *   function (it returns), checked inside one.
 * - `<!-- docs-test: with <path>: <source> -->`: a whole file that imports a file the page does
 *   not show (the app's own code); that file is stood in for by `<source>`.
 * - `<!-- docs-test: syntax only: <reason> -->`: only parsed (another library's code that is not
 *   installed here, for example).
 * - `<!-- docs-test: run in <app> -->`: a shell block run in that app's folder.
 * - `<!-- docs-test: responses in <app> -->`: request → response lines checked against that app.
 * - `<!-- docs-test: not run: <reason> -->`: a shell block that is not run, and why.
 *
 * Without a comment, a TypeScript, JavaScript or Astro block is type-checked as a whole file:
 * named by its first line (`// src/pages/login.astro`) it joins the other files of its section's
 * app (the files of one `## ` section import each other); unnamed, it is a module of its own. "Before" blocks of the migration guides (code of the
 * libraries being replaced) are parsed only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What a docs test does with a block. */
export type Treatment =
  | { readonly kind: 'snippet'; readonly file: string }
  | {
      readonly kind: 'typecheck';
      readonly declarations: string;
      /** The block is the body of a function (it returns). */
      readonly functionBody?: boolean;
      readonly standIn?: StandIn;
    }
  | { readonly kind: 'syntax'; readonly reason: string }
  | { readonly kind: 'run'; readonly app: string }
  | { readonly kind: 'responses'; readonly app: string }
  | { readonly kind: 'not run'; readonly reason: string }
  | { readonly kind: 'prose' };

/** A file the block imports but the page does not show ("your users table"): what it must export. */
export interface StandIn {
  readonly path: string;
  readonly source: string;
}

/** A fenced block of a markdown file. */
export interface Block {
  /** The markdown file, relative to the repository root. */
  readonly doc: string;
  /** The line of the opening fence (1-based). */
  readonly line: number;
  /** The `## ` section it is in (`''` before the first). */
  readonly section: string;
  readonly language: string;
  readonly content: string;
  /** The file it stands for, from its first line (`// src/pages/login.astro`), if any. */
  readonly file: string | undefined;
  readonly treatment: Treatment;
}

/** Languages type-checked as code. */
export const codeLanguages = new Set(['ts', 'js', 'mjs', 'astro', 'tsx']);
/** Languages that are shell commands. */
export const shellLanguages = new Set(['sh', 'bash', 'shell']);

const markerPattern = /^<!-- (snippet|docs-test): (.*) -->$/;

/** The file a block names on its first line (inside the frontmatter for Astro files). */
function fileOf(language: string, content: string): string | undefined {
  const lines = content.split('\n');
  const first = language === 'astro' && lines[0] === '---' ? lines[1] : lines[0];
  const match = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.(?:astro|ts|mjs|js|tsx))(?: |$)/.exec(first ?? '');
  return match?.[1];
}

function treatmentOf(marker: RegExpExecArray | null, language: string, before: boolean): Treatment {
  if (marker !== null) {
    const [, kind, text] = marker as unknown as [string, string, string];
    if (kind === 'snippet') return { kind: 'snippet', file: text };
    const partial = /^partial(, function body)?(?:; (.*))?$/.exec(text);
    if (partial !== null) {
      return { kind: 'typecheck', declarations: partial[2] ?? '', functionBody: partial[1] !== undefined };
    }
    const standIn = /^with ([\w./-]+): (.+)$/.exec(text);
    if (standIn !== null) {
      return {
        kind: 'typecheck',
        declarations: '',
        standIn: { path: standIn[1] as string, source: standIn[2] as string },
      };
    }
    const syntax = /^syntax only: (.+)$/.exec(text);
    if (syntax !== null) return { kind: 'syntax', reason: syntax[1] as string };
    const run = /^run in ([\w-]+)$/.exec(text);
    if (run !== null) return { kind: 'run', app: run[1] as string };
    const responses = /^responses in ([\w-]+)$/.exec(text);
    if (responses !== null) return { kind: 'responses', app: responses[1] as string };
    const notRun = /^not run: (.+)$/.exec(text);
    if (notRun !== null) return { kind: 'not run', reason: notRun[1] as string };
    throw new Error(`unknown docs-test marker: ${text}`);
  }
  if (codeLanguages.has(language)) {
    return before
      ? { kind: 'syntax', reason: 'a "Before" example: code of the library being replaced' }
      : { kind: 'typecheck', declarations: '' };
  }
  return { kind: 'prose' };
}

/** The fenced blocks of one markdown file. */
export function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(repoRoot, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  let marker: RegExpExecArray | null = null;
  let before = false;
  let section = '';
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.startsWith('## ')) section = line.slice(3);
    const found = markerPattern.exec(line);
    if (found !== null) {
      marker = found;
      continue;
    }
    if (line.startsWith('**Before**')) before = true;
    if (line.startsWith('**After**')) before = false;
    const fence = /^```(\w*)$/.exec(line);
    if (fence === null) {
      if (line.trim() !== '' && marker !== null)
        throw new Error(`${doc}:${index + 1}: text between a marker and its block`);
      continue;
    }
    const start = index;
    const content: string[] = [];
    for (index++; index < lines.length && lines[index] !== '```'; index++) content.push(lines[index] as string);
    const language = fence[1] ?? '';
    const text = content.join('\n');
    blocks.push({
      doc,
      line: start + 1,
      section,
      language,
      content: text,
      file: codeLanguages.has(language) ? fileOf(language, text) : undefined,
      treatment: treatmentOf(marker, language, before),
    });
    marker = null;
    before = false;
  }
  return blocks;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [relative(repoRoot, join(repoRoot, path))] : [];
  });
}

/** Every markdown file the docs tests read: README.md and docs/ (not bench/, whose blocks are output). */
export const documents: readonly string[] = ['README.md', ...markdownFiles('docs').sort()];

/** Every block of {@link documents}. */
export const allBlocks: readonly Block[] = documents.flatMap(blocksOf);

/** A name for a section's app: `docs-getting-started--the-app-in-five-minutes`. */
export function appName(doc: string, section: string): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/\.md$/, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  return section === '' ? slug(doc) : `${slug(doc)}--${slug(section)}`;
}

/** A short name for a block in test titles. */
export function where(block: Block): string {
  return `${block.doc}:${block.line}${block.file === undefined ? '' : ` (${block.file})`}`;
}
