/**
 * `sessionkit/hono`: sessions, route rules and CSRF protection as a Hono middleware. `hono` is an
 * optional peer dependency.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { sessionkit, type SessionkitEnv } from 'sessionkit/hono';
 * import { getSession } from 'sessionkit/server';
 *
 * const app = new Hono<SessionkitEnv>();
 * app.use(sessionkit({ secrets: process.env.SESSION_SECRET!, protect: [{ pattern: '/admin/**', role: 'admin' }] }));
 * app.get('/', (c) => c.text(`Hello ${getSession(c)?.userId ?? 'guest'}`));
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import { isSessionKitError } from '../core/errors.ts';
import type { SessionManager } from '../core/manager.ts';
import { runRequest } from '../pipeline/handle.ts';
import { createPipeline, type SessionkitOptions } from '../pipeline/options.ts';
import type { RequestSessionState } from '../pipeline/state.ts';

/**
 * The Hono environment the middleware fills: `c.var.sessionkit` (also `c.get('sessionkit')`) is
 * the request state, and the `sessionkit/server` helpers accept `c` as their context.
 *
 * @example
 * ```ts
 * const app = new Hono<SessionkitEnv>();
 * app.get('/token', (c) => c.text(c.var.sessionkit.csrfToken));
 * ```
 */
export interface SessionkitEnv {
  Variables: { sessionkit: RequestSessionState };
}

/** The middleware, with the session manager for work outside requests (revocation, listing). */
export type SessionkitMiddleware = MiddlewareHandler<SessionkitEnv> & {
  /** The session manager (store mode: `listSessions`, `revokeSession`, ...). */
  readonly manager: SessionManager<Record<string, unknown>>;
};

/** Errors a handler throws that sessionkit answers (sign-in redirect, JSON 401/403, 503). */
function isSessionkitAnswer(error: unknown): boolean {
  return (
    isSessionKitError(error, 'ERR_UNAUTHENTICATED') ||
    isSessionKitError(error, 'ERR_FORBIDDEN') ||
    isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')
  );
}

/**
 * The sessionkit middleware: loads the session, checks CSRF on unsafe methods and the route rules
 * (which receive Hono's `c` as their context), runs the rest of the app inside the request
 * context, then saves the session onto the response. Refused requests get a redirect or an HTML
 * page (page visits) or JSON (API requests). A handler's `requireSession()` gets the same answers.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, here, not on the first request
 *
 * @example
 * ```ts
 * app.use(sessionkit({ secrets: process.env.SESSION_SECRET!, store: redisStore({ client }) }));
 * ```
 */
export function sessionkit(options: SessionkitOptions<Context<SessionkitEnv>>): SessionkitMiddleware {
  const runtime = createPipeline<Context<SessionkitEnv>>(
    options,
    {
      attach(c, state) {
        c.set('sessionkit', state);
      },
    },
    'sessionkit()',
  );
  const middleware: MiddlewareHandler<SessionkitEnv> = async (c, next) => {
    const request = c.req.raw;
    const response = await runRequest(runtime, request, new URL(request.url), undefined, c, async () => {
      await next();
      // Hono turns a handler's throw into its error response: sessionkit answers its own errors.
      if (isSessionkitAnswer(c.error)) throw c.error;
      return c.res;
    });
    // Replace the response as a whole (assigning over it would merge the old headers back in).
    c.res = undefined;
    c.res = response;
  };
  return Object.assign(middleware, { manager: runtime.manager });
}
