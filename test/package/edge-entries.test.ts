/**
 * Every entry a server bundle may import bundles for edge runtimes: esbuild with platform
 * `neutral` and `browser` resolves no `node:` import (esbuild cannot resolve one there, so the
 * build itself fails if one is reachable), and the metafile shows that no config-time code (the
 * Astro integration, Astro itself, a JavaScript parser) reaches the output. Runs on the built
 * package (`npm run build`), resolved through its own `exports`, as an app's bundler does.
 */
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Entries a server bundle imports, with the names imported. */
const entries: Record<string, string> = {
  sessionkit: "export * from 'sessionkit'; export { default } from 'sessionkit';",
  'sessionkit (cookie-mode core only)':
    "export { createSessionManager, createCookieSessionStorage, createKeyRing } from 'sessionkit';",
  'sessionkit/server': "export * from 'sessionkit/server';",
  'sessionkit/guard': "export * from 'sessionkit/guard';",
  'sessionkit/csrf': "export * from 'sessionkit/csrf';",
  'sessionkit/hono': "export * from 'sessionkit/hono';",
  'sessionkit/fetch': "export * from 'sessionkit/fetch';",
  'sessionkit/astro/config': "export * from 'sessionkit/astro/config';",
  'the Astro middlewares (dist/astro/middleware*.js)':
    "export * from './dist/astro/middleware.js'; export { onRequest as post } from './dist/astro/middleware-post.js';",
};

/** Inputs that are config-time code: none may reach a runtime bundle. */
const configTime = [/dist\/astro\/index\.js$/, /node_modules\/astro\//, /node_modules\/acorn\//, /eslint-scope/];

async function bundle(contents: string, platform: 'neutral' | 'browser'): Promise<Metafile> {
  const result = await build({
    stdin: { contents, resolveDir: repoRoot, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    metafile: true,
    logLevel: 'silent',
    // The host app provides these: Hono is a peer, the others are Astro's build-time modules.
    external: ['hono', 'astro:*', 'virtual:*'],
  });
  return result.metafile;
}

describe('edge-safe entries (esbuild, platform neutral and browser)', () => {
  for (const [name, contents] of Object.entries(entries)) {
    for (const platform of ['neutral', 'browser'] as const) {
      it(`${name} (${platform}): no node: import, no config-time code`, async () => {
        const metafile = await bundle(contents, platform);
        const inputs = Object.keys(metafile.inputs);
        expect(inputs.some((input) => input.includes('dist/'))).toBe(true);
        for (const pattern of configTime) expect(inputs.filter((input) => pattern.test(input))).toEqual([]);
        const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
        expect(imports.filter((path) => path.startsWith('node:'))).toEqual([]);
        expect(
          imports.filter((path) => !['hono', 'astro:env/server', 'virtual:sessionkit/config'].includes(path)),
        ).toEqual([]);
      });
    }
  }

  it('the control: the integration itself does reach config-time code (the check can fail)', async () => {
    await expect(bundle("export * from 'sessionkit/astro';", 'neutral')).rejects.toThrow(/node:/);
  });
});
