/**
 * The published-package check: pack sessionkit with `npm pack`, install the tarball into a fresh
 * Astro app (a real directory under node_modules, not a link), then build and run it in production
 * and in `astro dev`. This is where a virtual-module import breaks if the package is not
 * treated as an Astro package by Vite (see PLATFORM-NOTES).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, childEnv, type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const appRoot = `${repoRoot}.tmp/packed-app`;
const npm = 'npm';

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  rmSync(appRoot, { recursive: true, force: true });
  mkdirSync(appRoot, { recursive: true });
  cpSync(`${repoRoot}test/fixtures/astro-basic/src`, `${appRoot}/src`, { recursive: true });
  cpSync(`${repoRoot}test/fixtures/astro-basic/astro.config.mjs`, `${appRoot}/astro.config.mjs`);
  const tarball = run(npm, ['pack', '--pack-destination', appRoot, '--silent'], repoRoot).trim().split('\n').at(-1)!;
  writeFileSync(
    `${appRoot}/package.json`,
    JSON.stringify({
      name: 'packed-app',
      private: true,
      type: 'module',
      dependencies: { sessionkit: `file:./${tarball}` },
    }),
  );
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--omit=peer'], appRoot);
  run(process.execPath, [`${repoRoot}node_modules/astro/bin/astro.mjs`, 'build', '--root', appRoot], appRoot);
}, 180_000);

afterAll(() => {
  rmSync(appRoot, { recursive: true, force: true });
});

for (const mode of ['production', 'dev'] as const) {
  describe(`packed tarball (${mode})`, () => {
    let server: FixtureServer;
    beforeAll(async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      server =
        mode === 'production'
          ? await startServerProcess(
              [`${appRoot}/dist/server/entry.mjs`],
              appRoot,
              { HOST: '127.0.0.1', PORT: String(port) },
              url,
              20_000,
            )
          : await startServerProcess(
              [
                `${repoRoot}node_modules/astro/bin/astro.mjs`,
                'dev',
                '--root',
                appRoot,
                '--port',
                String(port),
                '--host',
                '127.0.0.1',
              ],
              appRoot,
              {},
              url,
              60_000,
            );
    }, 90_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('guards, signs in and renders from the installed package', async () => {
      const browser = new Browser(server.url);
      expect((await browser.fetch('/admin')).status).toBe(303);
      const token = await browser.csrfToken();
      expect((await browser.postJson('/api/login', { email: 'vip@example.com' }, token)).status).toBe(200);
      expect((await browser.fetch('/vip')).status).toBe(200);
      expect((await browser.fetch('/admin')).status).toBe(403);
    });
  });
}
