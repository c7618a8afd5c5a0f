/**
 * The `wrangler dev` command line for serving a Worker on workerd on a loopback port, shared by
 * the Workers tests (wrangler.ts) and the WebCrypto benchmark (bench/webcrypto). Plain TypeScript
 * that Node loads by stripping types. Nothing reaches the network: metrics and the `Request.cf`
 * download are switched off.
 */
import { fileURLToPath } from 'node:url';

const wranglerBin = fileURLToPath(new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url));

/** Where and how to serve. */
export interface WranglerDevOptions {
  /** The Worker's wrangler.json. */
  config: string;
  port: number;
  inspectorPort: number;
  /** A directory for local bindings (KV...), thrown away afterwards. */
  persistTo: string;
  /** Variables, passed as `--var NAME:value`. */
  vars?: Record<string, string>;
}

/** Node's arguments and the environment to run `wrangler dev` with. */
export function wranglerDev(options: WranglerDevOptions): { args: string[]; env: Record<string, string> } {
  const args = [
    wranglerBin,
    'dev',
    '--config',
    options.config,
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--inspector-port',
    String(options.inspectorPort),
    '--persist-to',
    options.persistTo,
    '--show-interactive-dev-session=false',
    // Astro's build output says `no_bundle`, and then wrangler adds no middleware that drains an
    // unread request body: a POST answered without reading it (a CSRF refusal) made the dev
    // proxy fail the next request with "Network connection lost" (500), in 2 of 60 tries here
    // (cloudflare/workers-sdk#15203). Bundling adds that middleware: 0 of 210. Production
    // Workers have no such proxy.
    '--bundle',
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  return { args, env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' } };
}
