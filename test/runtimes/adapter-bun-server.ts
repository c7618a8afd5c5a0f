/** The `sessionkit/fetch` app (adapter-app.ts) on `Bun.serve`, at 127.0.0.1:$PORT. */
import { createAdapterApp } from './adapter-app.ts';

declare const Bun: {
  readonly version: string;
  readonly env: Record<string, string | undefined>;
  serve(options: { hostname: string; port: number; fetch: (request: Request) => Promise<Response> }): unknown;
};

Bun.serve({
  hostname: '127.0.0.1',
  port: Number(Bun.env.PORT),
  fetch: createAdapterApp(Bun.env.SESSIONKIT_SECRET ?? '', `Bun ${Bun.version}`),
});
