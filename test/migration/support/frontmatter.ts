/**
 * Runs the frontmatter of an `.astro` snippet as the page would run it, with a minimal `Astro`
 * global: imports are resolved relative to the snippet file and loaded for real, so the exact
 * text shown in a migration guide is what the test executes. Only plain JavaScript frontmatter
 * and `import { a, b } from '...'` / `import x from '...'` lines are supported; anything else
 * fails loudly instead of being skipped.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The parts of `Astro` the snippets use. */
export interface AstroGlobal {
  readonly request: Request;
  readonly response: { status: number; headers: Headers };
  readonly locals: Record<string, unknown>;
  redirect(path: string, status?: number): Response;
}

/** A fresh `Astro` global for one request. */
export function astroGlobal(request: Request): AstroGlobal {
  return {
    request,
    response: { status: 200, headers: new Headers() },
    locals: {},
    redirect: (path, status = 302) => new Response(null, { status, headers: { location: path } }),
  };
}

/** The frontmatter and the template of an `.astro` file. */
export function splitAstro(file: string): { frontmatter: string; template: string } {
  const source = readFileSync(file, 'utf8');
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(source);
  if (match === null) throw new Error(`${file}: no frontmatter`);
  return { frontmatter: match[1] as string, template: match[2] as string };
}

const importLine = /^import\s+(.+?)\s+from\s+'([^']+)';$/;

function rewriteImports(frontmatter: string, file: string): string {
  return frontmatter
    .split('\n')
    .map((line) => {
      if (!line.startsWith('import ')) return line;
      const match = importLine.exec(line);
      if (match === null) throw new Error(`${file}: unsupported import line: ${line}`);
      const [, clause, specifier] = match as unknown as [string, string, string];
      if (clause.startsWith('type ')) return '';
      const binding = clause.startsWith('{') ? clause.replace(/\btype\s+\w+\s*,?/g, '') : `{ default: ${clause} }`;
      return `const ${binding} = await __import(${JSON.stringify(specifier)});`;
    })
    .join('\n');
}

/** The result of {@link runFrontmatter}: the page's early `return`, or the named top-level values. */
export type FrontmatterResult =
  | { readonly returned: Response; readonly values: undefined }
  | { readonly returned: undefined; readonly values: Record<string, unknown> };

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<unknown>;

/**
 * Runs the frontmatter of `file` with `Astro`.
 *
 * @param expose - top-level names whose values to return (what the template renders)
 */
export async function runFrontmatter(
  file: string,
  Astro: AstroGlobal,
  expose: string[] = [],
): Promise<FrontmatterResult> {
  const { frontmatter } = splitAstro(file);
  const body = `${rewriteImports(frontmatter, file)}\nreturn { __values: { ${expose.join(', ')} } };`;
  const load = (specifier: string): Promise<unknown> =>
    import(specifier.startsWith('.') ? pathToFileURL(resolve(dirname(file), specifier)).href : specifier);
  const result = (await new AsyncFunction('Astro', '__import', body)(Astro, load)) as
    | Response
    | { __values: Record<string, unknown> };
  if (result instanceof Response) return { returned: result, values: undefined };
  return { returned: undefined, values: result.__values };
}
