/**
 * The test app (app.ts) as a Cloudflare Worker, for `wrangler dev` (wrangler.json beside it):
 * settings from the Worker's vars, the app built once on the first request.
 */
import { createApp, withErrors } from './app.ts';
import { settingsFrom } from './settings.ts';

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: Record<string, string | undefined>): Promise<Response> {
    handler ??= withErrors(createApp(settingsFrom((name) => env[name], `workerd (${navigator.userAgent})`)));
    return handler(request);
  },
};
