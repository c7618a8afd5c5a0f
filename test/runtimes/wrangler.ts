/**
 * Serves a Worker on workerd through `wrangler dev` (the command the Astro and Cloudflare docs
 * give for a local run), on a free loopback port, with local bindings persisted to a throwaway
 * directory: a built @astrojs/cloudflare fixture, or a Worker of this folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';
import { wranglerDev } from './wrangler-dev.ts';

const fixturesRoot = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** `wrangler dev` on the Worker described by `config` (a wrangler.json), with `vars` as `--var NAME:value`. */
export async function serveWorker(config: string, vars: Record<string, string>): Promise<FixtureServer> {
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), 'sessionkit-wrangler-'));
  const { args, env } = wranglerDev({ config, port, inspectorPort: await freePort(), persistTo, vars });
  const server = await startServerProcess(args, dirname(config), env, `http://127.0.0.1:${port}`, 60_000);
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/** `wrangler dev` on a built fixture's `dist/server/wrangler.json`. */
export function serveOnWorkerd(fixture: string, vars: Record<string, string>): Promise<FixtureServer> {
  return serveWorker(`${fixturesRoot}${fixture}/dist/server/wrangler.json`, vars);
}
