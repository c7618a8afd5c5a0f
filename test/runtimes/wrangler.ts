/**
 * Serves a built @astrojs/cloudflare fixture on workerd through `wrangler dev` (the command the
 * Astro and Cloudflare docs give for a local run of a build), on a free loopback port, with
 * local bindings persisted to a throwaway directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';
import { wranglerDev } from './wrangler-dev.ts';

const fixturesRoot = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** `wrangler dev` on a fixture's `dist/server/wrangler.json`, with `vars` as `--var NAME:value`. */
export async function serveOnWorkerd(fixture: string, vars: Record<string, string>): Promise<FixtureServer> {
  const root = `${fixturesRoot}${fixture}`;
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), 'sessionkit-wrangler-'));
  const { args, env } = wranglerDev({
    config: `${root}/dist/server/wrangler.json`,
    port,
    inspectorPort: await freePort(),
    persistTo,
    vars,
  });
  const server = await startServerProcess(args, root, env, `http://127.0.0.1:${port}`, 60_000);
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
