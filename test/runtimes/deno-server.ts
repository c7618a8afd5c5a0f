/**
 * The test app (app.ts) on `Deno.serve`, at 127.0.0.1:$PORT. Run by deno.test.ts with
 * `deno run --no-remote --cached-only` and only the permissions it needs.
 */
import { createApp, withErrors } from './app.ts';
import { settingsFrom } from './settings.ts';

declare const Deno: {
  readonly version: { readonly deno: string };
  readonly env: { get(name: string): string | undefined };
  serve(options: { hostname: string; port: number }, handler: (request: Request) => Promise<Response>): unknown;
};

const settings = settingsFrom((name) => Deno.env.get(name), `Deno ${Deno.version.deno}`);
Deno.serve({ hostname: '127.0.0.1', port: Number(Deno.env.get('PORT')) }, withErrors(createApp(settings)));
