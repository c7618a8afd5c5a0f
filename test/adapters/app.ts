/**
 * The app of the adapter behaviour suite, written once: its routes, its rules and its store. The
 * Astro fixture (test/fixtures/astro-adapters), the Hono app and the fetch-handler app all serve
 * exactly these routes, so the suite can hold every adapter to the same answers.
 */
import { Redis } from 'ioredis';
import { getCsrfToken, getSessionHandle, requireSession, type SessionContextLike, setSession } from 'sessionkit/server';
import { redisStore } from 'sessionkit/stores/redis';

/** The rules every app uses. */
export const protect = [
  { pattern: '/dashboard', roles: ['user', 'admin'] },
  { pattern: '/admin/**', role: 'admin' },
  { pattern: '/api/me', roles: ['user', 'admin'] },
  { pattern: '/api/admin/**', role: 'admin' },
];

/** A route handler: the request and the adapter's context (what the `sessionkit/server` helpers accept). */
export type Route = (request: Request, context: SessionContextLike) => Response | Promise<Response>;

function page(body: string, status = 200): Response {
  return new Response(`<!doctype html><html><body>${body}</body></html>`, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}

/** The part of the request state the revocation route uses. */
interface RevokingState {
  readonly manager: { revokeUserSessions(userId: string, options: { except: unknown }): Promise<number> };
  readonly session: unknown;
}

/** The request state the adapter put on the context (Astro and fetch: `locals`; Hono: `var`). */
function stateOf(context: SessionContextLike): RevokingState {
  const holder = 'locals' in context ? context.locals : context.var;
  return (holder as { sessionkit: RevokingState }).sessionkit;
}

/** The routes, by `METHOD /path`. */
export const routes: Record<string, Route> = {
  'GET /': () => page('<h1>Home</h1>'),
  'GET /login': (_request, context) =>
    page(`<meta name="csrf-token" content="${getCsrfToken(context)}"><h1>Sign in</h1>`),
  'POST /api/login': async (request, context) => {
    const { userId, role } = (await request.json()) as { userId: string; role: string };
    await setSession(context, { userId, role });
    return Response.json({ ok: true });
  },
  'GET /dashboard': (_request, context) => {
    const user = requireSession(context);
    const notice = getSessionHandle(context).flash('notice') as string | undefined;
    return page(`<h1>Welcome ${user.userId}</h1>${notice === undefined ? '' : `<p id="notice">${notice}</p>`}`);
  },
  'GET /admin': () => page('<h1>Admin home</h1>'),
  'GET /needs-session': (_request, context) => page(`<h1>${requireSession(context).userId}</h1>`),
  'GET /api/me': (_request, context) => Response.json({ userId: requireSession(context).userId }),
  'GET /api/admin/stats': () => Response.json({ secret: 42 }),
  'POST /api/flash': (_request, context) => {
    getSessionHandle(context).flash('notice', 'Saved');
    return Response.json({ ok: true });
  },
  'POST /api/revoke-others': async (_request, context) => {
    const { userId } = requireSession(context);
    const { manager, session } = stateOf(context);
    const revoked = await manager.revokeUserSessions(userId, { except: session });
    return Response.json({ revoked });
  },
};

/** Serves `routes`; anything else is a 404. */
export function dispatch(request: Request, context: SessionContextLike): Response | Promise<Response> {
  const route = routes[`${request.method} ${new URL(request.url).pathname}`];
  return route === undefined ? new Response('Not found', { status: 404 }) : route(request, context);
}

/**
 * The Redis store on `port`, under a key prefix of its own, with the client options an app should
 * use: fail fast while Redis is down (sessionkit answers 503) instead of queueing requests.
 */
export async function createRedisStore(port: number) {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    retryStrategy: () => 100,
  });
  client.on('error', () => {});
  await client.connect();
  return { store: redisStore({ client, prefix: `sessionkit-adapters:${process.pid}:${Date.now()}:` }), client };
}
