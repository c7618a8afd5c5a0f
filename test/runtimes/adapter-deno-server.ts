/** The `sessionkit/fetch` app (adapter-app.ts) on `Deno.serve`, at 127.0.0.1:$PORT. */
import { createAdapterApp } from './adapter-app.ts';

declare const Deno: {
  readonly version: { readonly deno: string };
  readonly env: { get(name: string): string | undefined };
  serve(options: { hostname: string; port: number }, handler: (request: Request) => Promise<Response>): unknown;
};

const app = createAdapterApp(Deno.env.get('SESSIONKIT_SECRET') ?? '', `Deno ${Deno.version.deno}`);
Deno.serve({ hostname: '127.0.0.1', port: Number(Deno.env.get('PORT')) }, app);
