/**
 * The test app (app.ts) as a Cloudflare Worker, for `wrangler dev` (wrangler.json beside it):
 * settings from the Worker's vars, the app built once on the first request. `GET /_engine` tells
 * which engine sessionkit's "auto" picks here, and whether workerd offers node:crypto at all.
 */
import { engineFor } from '../../src/core/crypto-engine.ts';
import { nodeCrypto } from '../../src/core/runtime.ts';
import { createApp, withErrors } from './app.ts';
import { settingsFrom } from './settings.ts';

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: Record<string, string | undefined>): Promise<Response> {
    if (new URL(request.url).pathname === '/_engine') {
      return Promise.resolve(
        Response.json({ auto: engineFor('auto').kind, nodeCryptoOffered: nodeCrypto !== undefined }),
      );
    }
    handler ??= withErrors(createApp(settingsFrom((name) => env[name], `workerd (${navigator.userAgent})`)));
    return handler(request);
  },
};
