/**
 * `sessionkit/fetch`: sessions, route rules and CSRF protection around a plain fetch handler,
 * `(request) => Response`, as `Bun.serve`, `Deno.serve`, Cloudflare Workers and Node (through a
 * Request/Response bridge such as `@hono/node-server`) call it.
 *
 * @example
 * ```ts
 * import { withSessionkit } from 'sessionkit/fetch';
 * import { getSession } from 'sessionkit/server';
 *
 * const fetch = withSessionkit(
 *   { secrets: process.env.SESSION_SECRET!, protect: [{ pattern: '/admin/**', role: 'admin' }] },
 *   (request) => new Response(`Hello ${getSession()?.userId ?? 'guest'}`),
 * );
 * Bun.serve({ fetch }); // or Deno.serve(fetch), or export default { fetch }
 * ```
 *
 * @module
 */
import type { SessionManager } from '../core/manager.ts';
import { promiseOf } from '../core/maybe-promise.ts';
import { runRequest } from '../pipeline/handle.ts';
import { createPipeline, type SessionkitOptions } from '../pipeline/options.ts';
import type { RequestSessionState } from '../pipeline/state.ts';

/**
 * What the handler (and rules' `allow`, `access.check`, `csrfExempt`) receives besides the
 * request. `locals.sessionkit` is the request state, so `getSession(context)` works where the
 * runtime has no `AsyncLocalStorage`.
 *
 * @example
 * ```ts
 * const handler = (request: Request, context: FetchContext) => Response.json(context.locals.sessionkit.session.data);
 * ```
 */
export interface FetchContext {
  readonly request: Request;
  readonly url: URL;
  /** `sessionkit`: the request state (session, CSRF token, manager). Set before rules and the handler run. */
  readonly locals: { sessionkit: RequestSessionState };
}

/**
 * The app: a fetch handler that also receives the {@link FetchContext}, then whatever else the
 * server passes (Bun's `server`, Deno's `info`, a Worker's `env` and `ctx`).
 */
export type FetchHandler<Args extends unknown[]> = (
  request: Request,
  context: FetchContext,
  ...args: Args
) => Response | Promise<Response>;

/** The wrapped handler, with the session manager for work outside requests (revocation, listing). */
export interface SessionkitFetchHandler<Args extends unknown[]> {
  (request: Request, ...args: Args): Promise<Response>;
  /** The session manager (store mode: `listSessions`, `revokeSession`, ...). */
  readonly manager: SessionManager<Record<string, unknown>>;
}

/**
 * Wraps `handler` in the sessionkit pipeline: the session is loaded, unsafe methods are checked
 * for CSRF, the route rules decide, `handler` runs inside the request context (where the
 * `sessionkit/server` helpers work), and the session is saved onto its response. Refused
 * requests get a redirect or an HTML page (page visits) or JSON (API requests) without reaching
 * `handler`.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, here, not on the first request
 *
 * @example
 * ```ts
 * export default {
 *   fetch: withSessionkit({ secrets: env.SESSION_SECRET }, (request, context) => new Response(context.locals.sessionkit.csrfToken)),
 * };
 * ```
 */
export function withSessionkit<Args extends unknown[] = []>(
  options: SessionkitOptions<FetchContext>,
  handler: FetchHandler<Args>,
): SessionkitFetchHandler<Args> {
  const runtime = createPipeline<FetchContext>(
    options,
    {
      attach(context, state) {
        context.locals.sessionkit = state;
      },
    },
    'withSessionkit()',
  );
  const wrapped = (request: Request, ...args: Args): Promise<Response> =>
    promiseOf(() => {
      const url = new URL(request.url);
      const context = { request, url, locals: {} } as FetchContext;
      return runRequest(runtime, request, url, undefined, context, () => handler(request, context, ...args));
    });
  return Object.assign(wrapped, { manager: runtime.manager });
}
