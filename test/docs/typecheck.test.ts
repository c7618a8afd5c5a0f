/**
 * Every TypeScript, JavaScript and Astro block of README.md and docs/ is compiled against the
 * built package (`dist/`, through the package's own `exports`): written out as files of a
 * project per page (a block named `// src/pages/login.astro` becomes that file, so the files of
 * one page import each other), Astro files converted to TSX by Astro's compiler as `astro check`
 * does, then type-checked by `tsc` with Astro's types, `Astro.locals.sessionkit` typed as the
 * integration types it. A fragment is checked after the declarations its marker gives; code of
 * libraries that are not installed is parsed only. See blocks.ts for the markers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { convertToTSX } from '@astrojs/compiler';
import { transform } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { localsTypes } from '../../src/astro/integration.ts';
import { allBlocks, appName, type Block, codeLanguages, repoRoot, where } from './blocks.ts';

const checkRoot = join(repoRoot, '.tmp/docs-check');
const tsc = join(repoRoot, 'node_modules/.bin/tsc');
const run = promisify(execFile);

const compilerOptions = {
  target: 'es2023',
  module: 'preserve',
  moduleResolution: 'bundler',
  lib: ['es2023', 'dom', 'dom.iterable'],
  types: ['node'],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  allowJs: true,
  checkJs: true,
  jsx: 'preserve',
  jsxImportSource: 'astro',
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  isolatedModules: true,
};

/** One project: the files of one page's code blocks. */
interface Project {
  readonly name: string;
  readonly files: Map<string, Block>;
}

/** A block's declarations (a fragment's context), if any. */
const declarationsOf = (block: Block) => (block.treatment.kind === 'typecheck' ? block.treatment.declarations : '');
/** The file extension a block is compiled as: a JavaScript fragment with declarations is compiled as TypeScript. */
const extensionOf = (block: Block) =>
  block.language === 'astro'
    ? 'astro'
    : block.language === 'tsx'
      ? 'tsx'
      : block.language === 'ts' || declarationsOf(block) !== ''
        ? 'ts'
        : 'mjs';

/** Groups the blocks to compile into projects: one per section, a file named twice starts another. */
function projects(blocks: readonly Block[]): Project[] {
  const result = new Map<string, Project>();
  for (const block of blocks) {
    const base = appName(block.doc, block.section);
    const path = block.file ?? `blocks/L${block.line}.${extensionOf(block)}`;
    let project = result.get(base);
    if (project === undefined) {
      project = { name: base, files: new Map() };
      result.set(base, project);
    }
    if (project.files.has(path)) {
      const own = { name: `${base}-L${block.line}`, files: new Map([[path, block]]) };
      result.set(own.name, own);
    } else project.files.set(path, block);
  }
  return [...result.values()];
}

/** The source to compile for a block: its declarations first, and module syntax so names stay local. */
function sourceOf(block: Block): string {
  const declarations = declarationsOf(block);
  if (block.language === 'astro') {
    if (declarations === '') return block.content;
    const frontmatter = /^---\n([\s\S]*?)\n---\n/.exec(block.content);
    return frontmatter === null
      ? `---\n${declarations}\n---\n${block.content}`
      : `---\n${declarations}\n${frontmatter[1]}\n---\n${block.content.slice(frontmatter[0].length)}`;
  }
  // Deno's npm: specifiers name the package as any other import does.
  const content = block.content.replaceAll("from 'npm:sessionkit", "from 'sessionkit");
  const lines = content.split('\n');
  if (block.treatment.kind === 'typecheck' && block.treatment.functionBody === true) {
    const imports = lines.filter((line) => /^import\b/.test(line));
    const body = lines.filter((line) => !/^import\b/.test(line));
    return `${declarations}\n${imports.join('\n')}\nexport async function handler() {\n${body.join('\n')}\n}\n`;
  }
  const isModule = /^\s*(?:import|export)\b/m.test(content);
  return `${declarations === '' ? '' : `${declarations}\n`}${content}${isModule ? '' : '\nexport {};'}\n`;
}

/** Writes a project to disk; returns where each written file came from. */
async function writeProject(project: Project): Promise<Map<string, Block>> {
  const dir = join(checkRoot, project.name);
  rmSync(dir, { recursive: true, force: true });
  const written = new Map<string, Block>();
  for (const [path, block] of project.files) {
    const source = sourceOf(block);
    let target = join(dir, path);
    let text = source;
    if (block.language === 'astro') {
      target = `${target}.tsx`;
      const tsx = await convertToTSX(source, { filename: join(dir, path) });
      text = tsx.code;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written.set(target.slice(dir.length + 1), block);
    const standIn = block.treatment.kind === 'typecheck' ? block.treatment.standIn : undefined;
    if (standIn !== undefined) {
      mkdirSync(dirname(join(dir, standIn.path)), { recursive: true });
      writeFileSync(join(dir, standIn.path), `${standIn.source}\n`);
    }
  }
  const runtimeConfig = [...project.files.keys()].find((path) => /^src\/sessionkit\.(?:ts|mjs|js)$/.test(path));
  const root = pathToFileURL(`${dir}/`);
  writeFileSync(
    join(dir, 'env.d.ts'),
    [
      `/// <reference path="${join(repoRoot, 'node_modules/astro/client.d.ts')}" />`,
      `/// <reference path="${join(repoRoot, 'node_modules/astro/env.d.ts')}" />`,
      '',
    ].join('\n'),
  );
  // The type of Astro.locals.sessionkit, where and as the integration writes it.
  const localsDir = join(dir, '.astro/integrations/sessionkit');
  mkdirSync(localsDir, { recursive: true });
  writeFileSync(join(localsDir, 'locals.d.ts'), localsTypes(root, runtimeConfig && join(dir, runtimeConfig)));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['**/*', '.astro/**/*'] }, null, 2),
  );
  return written;
}

/** `tsc` errors, each with the doc block its file came from. */
async function typecheck(project: Project): Promise<string[]> {
  const written = await writeProject(project);
  const dir = join(checkRoot, project.name);
  try {
    await run(process.execPath, [tsc, '--pretty', 'false', '-p', join(dir, 'tsconfig.json')], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return [];
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    return output
      .split('\n')
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => {
        const file = line.slice(0, line.indexOf('('));
        const block = written.get(file);
        return block === undefined ? line : `${where(block)}: ${line}`;
      });
  }
}

/** `sessionkit` for the projects: this repository, as an installed package (its `exports`, its `dist/`). */
function linkPackage(): void {
  const modules = join(checkRoot, 'node_modules');
  mkdirSync(modules, { recursive: true });
  rmSync(join(modules, 'sessionkit'), { force: true });
  symlinkSync(repoRoot, join(modules, 'sessionkit'), 'dir');
}

const compiled = allBlocks.filter((block) => codeLanguages.has(block.language) && block.treatment.kind === 'typecheck');
const parsedOnly = allBlocks.filter((block) => block.treatment.kind === 'syntax');

describe('every code block of README.md and docs/ compiles against the built package', () => {
  it('finds the blocks (a sanity check on the extraction)', () => {
    expect(compiled.length).toBeGreaterThan(35);
    expect(compiled.some((block) => block.doc === 'README.md' && block.language === 'astro')).toBe(true);
    expect(compiled.filter((block) => block.doc === 'docs/getting-started.md').map((block) => block.file)).toEqual(
      expect.arrayContaining(['astro.config.mjs', 'src/pages/login.astro', 'src/pages/dashboard.astro']),
    );
  });

  beforeAll(linkPackage);

  it.each(projects(compiled).map((project) => [project.name, project] as const))(
    '%s',
    async (_, project) => {
      expect(await typecheck(project)).toEqual([]);
    },
    120_000,
  );

  it.each(parsedOnly.map((block) => [where(block), block] as const))('%s parses (syntax only)', async (_, block) => {
    const source =
      block.language === 'astro'
        ? (await convertToTSX(block.content, { filename: 'block.astro' })).code
        : block.content;
    const loader =
      block.language === 'astro' || block.language === 'tsx' ? 'tsx' : block.language === 'ts' ? 'ts' : 'js';
    // A handler's body shown on its own (a "Before" block that returns): parsed as the body of a function.
    const imports = source.split('\n').filter((line) => /^import\b/.test(line));
    const body = source.split('\n').filter((line) => !/^import\b/.test(line));
    const code = /^return\b/m.test(source)
      ? `${imports.join('\n')}\nexport async function handler() {\n${body.join('\n')}\n}`
      : source;
    await expect(transform(code, { loader, format: 'esm' })).resolves.toBeDefined();
  });
});
