/**
 * The public surface of the built package: which subpaths exist, that internal helpers are not
 * exported, and that no public function is sometimes synchronous and sometimes not (no
 * `X | Promise<X>` return type in a public `.d.ts`). Runs on `dist/` (`npm run build`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe('package surface', () => {
  it('exports these subpaths and no others (the Astro middlewares are handed to Astro by URL)', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(
      [
        '.',
        './astro',
        './astro/config',
        './compat/astro-sessionkit',
        './compat/kit-session',
        './csrf',
        './fetch',
        './guard',
        './hono',
        './package.json',
        './ratelimit',
        './server',
        './stores/encrypt',
        './stores/memory',
        './stores/postgres',
        './stores/redis',
        './stores/sqlite',
        './stores/unstorage',
      ].sort(),
    );
  });

  it('depends at run time only on what the runtime needs', () => {
    expect(Object.keys(manifest.dependencies)).toEqual(['cookie']);
    expect(manifest.peerDependenciesMeta.hono?.optional).toBe(true);
  });

  it('keeps internal helpers out of the entries', async () => {
    const root = await import('sessionkit');
    for (const name of [
      'encodeBase64Url',
      'decodeBase64Url',
      'parseCookieHeader',
      'createSealer',
      'createStoreBackend',
      'maxCookieBytes',
    ]) {
      expect(Object.keys(root), name).not.toContain(name);
    }
    const csrf = await import('sessionkit/csrf');
    for (const name of ['plainPath', 'mediaTypeOf', 'isFormMediaType', 'escapeHtml']) {
      expect(Object.keys(csrf), name).not.toContain(name);
    }
    const { createCsrfProtection } = csrf;
    const { createKeyRing } = root;
    const protection = createCsrfProtection({ keyRing: createKeyRing('f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni') });
    expect(Object.keys(protection)).not.toContain('issueTokenSync');
  });

  it('has no public function that returns X | Promise<X>', () => {
    // dist/internal/ is built for the benches and not exported.
    const declarations = readdirSync(join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.d.ts') && !file.startsWith('internal/'),
    );
    const offending: string[] = [];
    for (const file of declarations) {
      const lines = readFileSync(join(repoRoot, 'dist', file), 'utf8').split('\n');
      for (const line of lines) {
        // A method or function whose declared return is a union with a promise (callbacks the
        // app supplies, `=> X | Promise<X>`, are inputs and are allowed).
        if (/\)\s*:\s*[^=;]*\|\s*Promise</.test(line) || /\)\s*:\s*MaybePromise</.test(line)) {
          offending.push(`${file}: ${line.trim()}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
