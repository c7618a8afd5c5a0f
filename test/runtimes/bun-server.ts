/** The test app (app.ts) on `Bun.serve`, at 127.0.0.1:$PORT. Run by bun.test.ts. */
import { createApp, withErrors } from './app.ts';
import { settingsFrom } from './settings.ts';

declare const Bun: {
  readonly version: string;
  readonly env: Record<string, string | undefined>;
  serve(options: { hostname: string; port: number; fetch: (request: Request) => Promise<Response> }): unknown;
};

const settings = settingsFrom((name) => Bun.env[name], `Bun ${Bun.version}`);
Bun.serve({ hostname: '127.0.0.1', port: Number(Bun.env.PORT), fetch: withErrors(createApp(settings)) });
