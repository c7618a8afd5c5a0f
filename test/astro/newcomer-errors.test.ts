/**
 * The errors of a newcomer's first half hour, in real Astro builds: each names the cause, the
 * user's own option or file, and the fix, once; none points into sessionkit's own files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const appsRoot = join(repoRoot, '.tmp/newcomer-errors');
const astroBin = join(repoRoot, 'node_modules/astro/bin/astro.mjs');

/** Writes an app (linked to this repository's build) and runs `astro build`; returns its exit status and output. */
function build(name: string, files: Record<string, string>): { status: number | null; output: string } {
  const root = join(appsRoot, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, join(root, 'node_modules/sessionkit'), 'dir');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const result = spawnSync(process.execPath, [astroBin, 'build', '--root', root], {
    encoding: 'utf8',
    env: childEnv({ NO_COLOR: '1', FORCE_COLOR: '0' }),
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;

beforeAll(() => {
  if (!existsSync(join(repoRoot, 'dist/index.js'))) throw new Error('Build the library first: npm run build');
});
afterAll(() => rmSync(appsRoot, { recursive: true, force: true }));

describe('in a real astro build', () => {
  it('a protected page prerendered in a static app: warned once with the fix, then its requireSession() says why', () => {
    const { status, output } = build('prerendered', {
      'astro.config.mjs': [
        "import { defineConfig } from 'astro/config';",
        "import sessionkit from 'sessionkit';",
        '',
        "export default defineConfig({ integrations: [sessionkit({ protect: [{ pattern: '/', authenticated: true }] })] });",
      ].join('\n'),
      'src/pages/index.astro': [
        '---',
        "import { requireSession } from 'sessionkit/server';",
        'const user = requireSession(Astro);',
        '---',
        '<h1>{user.userId}</h1>',
      ].join('\n'),
    });
    expect(status).not.toBe(0);
    expect(occurrences(output, 'A protected route is prerendered: / (src/pages/index.astro).')).toBe(1);
    expect(output).toContain(
      'this project has no adapter, so every page is prerendered: add one (`npx astro add node`)',
    );
    expect(output).toContain('The page / is prerendered (rendered once, at build time, with no visitor)');
    expect(occurrences(output, 'Render it on demand: add `export const prerender = false` to the page')).toBe(1);
    expect(output).not.toContain('No sessionkit request context');
  });

  it('sessionkit/server in a client <script>: the build fails, naming the file and the fix', () => {
    const { status, output } = build('client-script', {
      'astro.config.mjs': [
        "import node from '@astrojs/node';",
        "import { defineConfig } from 'astro/config';",
        "import sessionkit from 'sessionkit';",
        '',
        "export default defineConfig({ output: 'server', adapter: node({ mode: 'standalone' }), integrations: [sessionkit()] });",
      ].join('\n'),
      'src/pages/index.astro': [
        '<button>Who am I?</button>',
        '<script>',
        "  import { getSession } from 'sessionkit/server';",
        "  document.querySelector('button')?.addEventListener('click', () => alert(getSession()?.userId));",
        '</script>',
      ].join('\n'),
    });
    expect(status).not.toBe(0);
    expect(output).toContain(
      'sessionkit/server is server-only, but src/pages/index.astro imports it in code that runs in the browser',
    );
    expect(occurrences(output, "Read the session in the page's frontmatter")).toBe(1);
  });

  it('store: memoryStore() in astro.config: the fix is the file to write, Location is astro.config.mjs', () => {
    const { status, output } = build('store-in-config', {
      'astro.config.mjs': [
        "import node from '@astrojs/node';",
        "import { defineConfig } from 'astro/config';",
        "import sessionkit from 'sessionkit';",
        "import { memoryStore } from 'sessionkit/stores/memory';",
        '',
        'export default defineConfig({',
        "  output: 'server',",
        "  adapter: node({ mode: 'standalone' }),",
        '  integrations: [',
        '    sessionkit({',
        "      loginPath: '/login',",
        '      store: memoryStore(),',
        '    }),',
        '  ],',
        '});',
      ].join('\n'),
      'src/pages/index.astro': '<h1>Hi</h1>',
    });
    expect(status).not.toBe(0);
    expect(output).toContain('sessionkit().store belongs in src/sessionkit.ts, not in astro.config');
    expect(output).toMatch(
      /import \{ defineSessionkit \} from 'sessionkit\/astro\/config';\n\s+import \{ memoryStore \} from 'sessionkit\/stores\/memory';\n\s+\n\s+export default defineSessionkit\(\{\n\s+store: memoryStore\(\),\n\s+\}\);/,
    );
    expect(occurrences(output, 'Move it into a new file, src/sessionkit.ts')).toBe(1);
    expect(output).toContain(`${join(appsRoot, 'store-in-config/astro.config.mjs')}:10:5`);
    expect(output).not.toMatch(/dist\/errors-|integrations\/hooks\.js/);
  });
});
