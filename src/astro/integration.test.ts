/**
 * The errors a newcomer's `astro.config` meets: each names the option as the user wrote it, the
 * cause and the fix, once (the hint leaves the message, Astro prints it on its own line), and
 * points Astro's "Location" at the `sessionkit()` call instead of sessionkit's own files.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AstroIntegration } from 'astro';
import { describe, expect, it } from 'vitest';
import { isSessionKitError, type SessionKitError } from '../core/errors.ts';
import sessionkitFromRoot from '../index.ts';
import { createPipeline } from '../pipeline/options.ts';
import { forAstro, onPrerenderedPage, rememberCallSite } from './error-display.ts';
import { sessionkit } from './index.ts';
import { resolveIntegrationOptions } from './integration.ts';

const secret = 'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni';

/** A project folder with the given files. */
function project(files: Record<string, string> = {}): URL {
  const root = mkdtempSync(join(tmpdir(), 'sk-newcomer-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return pathToFileURL(`${root}/`);
}

/** Runs the setup hook as `astro dev` / `astro build` would; returns the warnings it logged. */
async function setUp(integration: AstroIntegration, root: URL, command: 'dev' | 'build' = 'build'): Promise<string[]> {
  const warnings: string[] = [];
  const hook = integration.hooks['astro:config:setup'] as (parameters: unknown) => void | Promise<void>;
  await hook({
    config: { root, base: '/', vite: {} },
    command,
    updateConfig: () => {},
    addMiddleware: () => {},
    addDevToolbarApp: () => {},
    addWatchFile: () => {},
    injectRoute: () => {},
    logger: { warn: (message: string) => warnings.push(message), info() {}, error() {}, debug() {} },
  });
  return warnings;
}

/** The error the setup hook throws. */
async function refusal(integration: AstroIntegration, root = project()): Promise<SessionKitError> {
  try {
    await setUp(integration, root);
  } catch (error) {
    expect(isSessionKitError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    return error as SessionKitError;
  }
  throw new Error('the options were accepted');
}

describe('options that belong in src/sessionkit.ts, given in astro.config', () => {
  it('store: names src/sessionkit.ts and shows the option to move, as written, with its import', async () => {
    // The config file as a user writes it; the integration is called from it (line 7, column 5).
    const root = project({
      'astro.config.mjs': [
        "import { defineConfig } from 'astro/config';",
        "import sessionkit from 'sessionkit';",
        "import { memoryStore } from 'sessionkit/stores/memory';",
        "import { sqliteStore, other } from 'sessionkit/stores/sqlite';",
        'export default defineConfig({',
        '  integrations: [',
        '    sessionkit({',
        "      loginPath: '/login', // where to sign in",
        '      store: memoryStore(),',
        '    }),',
        '  ],',
        '});',
      ].join('\n'),
    });
    // As if astro.config.mjs above had made the call (the package root's export records its caller so).
    const options = { loginPath: '/login', store: {} };
    rememberCallSite(options, { file: new URL('astro.config.mjs', root).pathname, line: 7, column: 5 });
    const error = await refusal(sessionkit(options as never), root);
    expect(error.message).toBe(
      'sessionkit().store belongs in src/sessionkit.ts, not in astro.config: a store holds a live client (a database handle or connection), which astro.config options cannot carry into the server.',
    );
    expect(error.hint).toBe(
      [
        'Move it into a new file, src/sessionkit.ts, and remove it from astro.config:',
        '',
        '// src/sessionkit.ts',
        "import { defineSessionkit } from 'sessionkit/astro/config';",
        "import { memoryStore } from 'sessionkit/stores/memory';",
        '',
        'export default defineSessionkit({',
        '  store: memoryStore(),',
        '});',
      ].join('\n'),
    );
    // Astro prints message, then hint: the hint is not in the message too.
    expect(error.message).not.toContain('Hint:');
    expect((error as { loc?: unknown }).loc).toEqual({
      file: new URL('astro.config.mjs', root).pathname,
      line: 7,
      column: 5,
    });
    expect(error.stack?.split('\n')[1]).toBe(`    at ${new URL('astro.config.mjs', root).pathname}:7:5`);
  });

  it("the package root's export (what astro add writes) points the location at its caller", async () => {
    const line = Number(new Error().stack?.split('\n')[1]?.match(/:(\d+):\d+\)?$/)?.[1]) + 1;
    const integration = sessionkitFromRoot({ store: {} } as never);
    const error = await refusal(integration);
    expect((error as { loc?: { file: string; line: number } }).loc).toMatchObject({
      file: fileURLToPath(import.meta.url),
      line,
    });
  });

  it('onEvent: shows the function to move; says "add" when src/sessionkit.ts exists', async () => {
    const root = project({ 'src/sessionkit.ts': 'export default {};' });
    const error = await refusal(
      sessionkit({ onEvent: (event: { type: string }) => console.log(event.type) } as never),
      root,
    );
    expect(error.message).toMatch(
      /^sessionkit\(\)\.onEvent belongs in src\/sessionkit\.ts, not in astro\.config: it is a function/,
    );
    expect(error.hint).toContain('Move it into the defineSessionkit({ ... }) of src/sessionkit.ts');
    // Read from the calling file (here, this one), as written.
    expect(error.hint).toContain('  onEvent: (event: { type: string }) => console.log(event.type),\n});');
  });

  it('logger and schema name their reason; secret and secrets say to use the environment', async () => {
    expect((await refusal(sessionkit({ logger: console } as never))).message).toContain(
      'a logger is an object of functions',
    );
    expect((await refusal(sessionkit({ schema: {} } as never))).message).toContain('a schema is code');
    for (const key of ['secret', 'secrets']) {
      const error = await refusal(sessionkit({ [key]: 'x'.repeat(40) } as never));
      expect(error.message).toBe(
        `sessionkit().${key}: secrets do not belong in astro.config, which is committed with the code and read at build time.`,
      );
      expect(error.hint).toMatch(/set the SESSIONKIT_SECRET environment variable.*npx sessionkit secret.*\.env/);
    }
  });

  it('a typo still gets "did you mean"', async () => {
    const error = await refusal(sessionkit({ loginPth: '/login' } as never));
    expect(error.message).toBe('sessionkit(): unknown option "loginPth".');
    expect(error.hint).toBe('Did you mean "loginPath"?');
  });
});

describe("astro-sessionkit 0.1.33's options", () => {
  it('options with no sessionkit counterpart get their sessionkit spelling', async () => {
    const error = await refusal(sessionkit({ loginPath: '/signin', touchSessionKey: '__s' } as never));
    expect(error.message).toBe(
      'sessionkit().touchSessionKey is an astro-sessionkit option; sessionkit does not take it.',
    );
    expect(error.hint).toContain("bridge: 'astro-session'");
    expect(error.hint).toContain('docs/migration/astro-sessionkit.md');
  });

  it('globalProtect, exclude, sessionTtl, touchOnRequest and debug are options (test/migration has their behaviour)', () => {
    const resolved = resolveIntegrationOptions({
      loginPath: '/signin',
      globalProtect: true,
      exclude: ['/about'],
      sessionTtl: 1800,
      touchOnRequest: true,
      debug: true,
    });
    expect(resolved).toMatchObject({ globalProtect: true, exclude: ['/about'], debug: true });
    expect(resolved.expiry).toMatchObject({ idleTimeoutSeconds: 1800 });
  });
});

describe('rules are named as the user wrote them', () => {
  it('astro.config rules: sessionkit().protect[i]', async () => {
    const error = await refusal(
      sessionkit({
        protect: [
          { pattern: '/admin/**', role: 'admin' },
          { pattern: 'dashboard', authenticated: true },
        ],
      }),
    );
    expect(error.message).toBe('sessionkit().protect[1]: pattern "dashboard" must start with "/".');
    const blocking = await refusal(sessionkit({ protect: [{ pattern: '/**', authenticated: true }] }));
    expect(blocking.message).toContain('"/login" is protected for GET by sessionkit().protect[0] ("/**")');
  });

  it('the runtime names rules after the adapter (src/sessionkit.ts protect[i]); createSessionkit() says protect[i]', () => {
    const astroNames = (index: number) =>
      index < 1 ? `sessionkit().protect[${index}]` : `src/sessionkit.ts protect[${index - 1}]`;
    expect(() =>
      createPipeline(
        { secrets: secret, protect: [{ pattern: '/a', authenticated: true }, { pattern: '/b', rol: 'x' } as never] },
        { ruleName: astroNames },
        'sessionkit',
      ),
    ).toThrow('src/sessionkit.ts protect[0]: unknown option "rol".');
    expect(() => createPipeline({ secrets: secret, protect: [{ pattern: 'b', authenticated: true }] })).toThrow(
      'createSessionkit(): protect[0]: pattern "b" must start with "/".',
    );
  });
});

describe('the session secret in .env', () => {
  it('astro dev does not warn that the secret is unset when .env sets it (as Vite reads .env for the mode)', async () => {
    const unset = await setUp(sessionkit(), project(), 'dev');
    expect(unset.join('\n')).toContain('SESSIONKIT_SECRET is not set');
    for (const file of ['.env', '.env.local', '.env.development', '.env.development.local']) {
      const warnings = await setUp(
        sessionkit(),
        project({ [file]: `# comment\nSESSIONKIT_SECRET="${secret}"\n` }),
        'dev',
      );
      expect(warnings, file).toEqual([]);
    }
    // Another mode's file is not read by astro dev.
    const production = await setUp(
      sessionkit(),
      project({ '.env.production': `SESSIONKIT_SECRET=${secret}\n` }),
      'dev',
    );
    expect(production.join('\n')).toContain('SESSIONKIT_SECRET is not set');
  });
});

describe('errors as Astro shows them', () => {
  it('forAstro prints the hint once, and leaves other values alone', () => {
    const error = forAstro(
      Object.assign(new Error('x\nHint: y'), { name: 'SessionKitError', code: 'ERR_NO_CONTEXT', hint: 'y' }),
    ) as Error;
    expect(error.message).toBe('x');
    expect(error.stack?.split('\n')[0]).toBe('SessionKitError: x');
    const plain = new Error('a\nHint: b');
    expect(forAstro(plain)).toBe(plain);
    expect(plain.message).toBe('a\nHint: b');
  });

  it('a helper on a prerendered page names the cause and the fix', () => {
    const noContext = Object.assign(new Error('No sessionkit request context here.'), {
      name: 'SessionKitError',
      code: 'ERR_NO_CONTEXT',
    });
    const error = onPrerenderedPage(noContext, '/dashboard') as SessionKitError;
    expect(error.message).toBe(
      'The page /dashboard is prerendered (rendered once, at build time, with no visitor), so it has no session: sessionkit/server helpers cannot run there.',
    );
    expect(error.hint).toContain('export const prerender = false');
    const other = new Error('boom');
    expect(onPrerenderedPage(other, '/dashboard')).toBe(other);
  });
});
