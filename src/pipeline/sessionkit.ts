/**
 * `createSessionkit()`: sessions, route rules and CSRF protection for any server that speaks Web
 * `Request`/`Response`. Framework adapters (`sessionkit/hono`, `sessionkit/fetch`, the Astro
 * integration) are thin mappings onto {@link Sessionkit.handle}.
 *
 * @module
 */
import type { SessionManager } from '../core/manager.ts';
import { promiseOf } from '../core/maybe-promise.ts';
import { runRequest } from './handle.ts';
import { createPipeline, type SessionkitOptions } from './options.ts';
import type { RequestSessionState } from './state.ts';

/**
 * Per-request options of {@link Sessionkit.handle}.
 *
 * @example
 * ```ts
 * await kit.handle(request, next, { routePattern: '/posts/[id]' });
 * ```
 */
export interface HandleOptions<Context> {
  /** The router's matched route (e.g. `/posts/[id]`): checked by the guard as well as the path. */
  routePattern?: string;
  /** The request's URL, when the framework already parsed it. Default `new URL(request.url)`. */
  url?: URL;
  /** What rules' `allow`, `access.check` and `csrfExempt` receive. Default `{ request, url }`. */
  context?: Context;
}

/** The context rules receive from {@link Sessionkit.handle} when no `context` is given. */
export interface RequestContext {
  readonly request: Request;
  readonly url: URL;
}

/**
 * One app's sessions, rules and CSRF protection, from {@link createSessionkit}.
 *
 * @example
 * ```ts
 * const response = await kit.handle(request, (state) => render(state.session));
 * ```
 */
export interface Sessionkit<Context = RequestContext> {
  /**
   * Runs one request: loads the session, checks CSRF (unsafe methods) and the route rules, calls
   * `next` inside the request context (where `sessionkit/server` helpers work), saves the session
   * and returns `next`'s response with the session cookie and cache headers. Answers by itself,
   * without calling `next`, when a check fails: a redirect or HTML page for page visits, JSON for
   * API requests. An `ERR_UNAUTHENTICATED` / `ERR_FORBIDDEN` thrown by `next` (`requireSession()`)
   * gets the same answers.
   */
  handle(
    request: Request,
    next: (state: RequestSessionState) => Response | Promise<Response>,
    options?: HandleOptions<Context>,
  ): Promise<Response>;
  /** The session manager (store mode: `listSessions`, `revokeSession`, ... outside requests too). */
  readonly manager: SessionManager<Record<string, unknown>>;
}

/**
 * Creates the request pipeline for one app. Every option is validated, keys are derived and rules
 * compiled here, once.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, naming the option
 *
 * @example
 * ```ts
 * import { createSessionkit } from 'sessionkit';
 * import { getSession } from 'sessionkit/server';
 *
 * const kit = createSessionkit({
 *   secrets: process.env.SESSION_SECRET!,
 *   protect: [{ pattern: '/admin/**', role: 'admin' }],
 * });
 *
 * export default {
 *   fetch: (request: Request) => kit.handle(request, () => new Response(`Hello ${getSession()?.userId ?? 'guest'}`)),
 * };
 * ```
 */
export function createSessionkit<Context = RequestContext>(options: SessionkitOptions<Context>): Sessionkit<Context> {
  const runtime = createPipeline(options);
  return {
    manager: runtime.manager,
    handle(request, next, handleOptions) {
      return promiseOf(() => {
        const url = handleOptions?.url ?? new URL(request.url);
        const context = handleOptions?.context ?? ({ request, url } as RequestContext as Context);
        return runRequest(runtime, request, url, handleOptions?.routePattern, context, next);
      });
    },
  };
}
