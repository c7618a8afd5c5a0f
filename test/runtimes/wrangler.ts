/**
 * Serves a built @astrojs/cloudflare fixture on workerd through `wrangler dev` (the command the
 * Astro and Cloudflare docs give for a local run of a build), on a free loopback port, with
 * local bindings persisted to a throwaway directory. Nothing reaches the network: metrics and
 * the `Request.cf` download are switched off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const wranglerBin = `${repoRoot}node_modules/wrangler/bin/wrangler.js`;

/** `wrangler dev` on a fixture's `dist/server/wrangler.json`, with `vars` as `--var NAME:value`. */
export async function serveOnWorkerd(fixture: string, vars: Record<string, string>): Promise<FixtureServer> {
  const root = `${repoRoot}test/fixtures/${fixture}`;
  const port = await freePort();
  const inspectorPort = await freePort();
  const persistDirectory = mkdtempSync(join(tmpdir(), 'sessionkit-wrangler-'));
  const args = [
    wranglerBin,
    'dev',
    '--config',
    `${root}/dist/server/wrangler.json`,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistDirectory,
    '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  const env = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };
  const server = await startServerProcess(args, root, env, `http://127.0.0.1:${port}`, 60_000);
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(persistDirectory, { recursive: true, force: true });
    },
  };
}
