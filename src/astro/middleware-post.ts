/**
 * sessionkit's `post` middleware: runs after the user's middleware. When a `next('/other')`
 * rewrite in the user's middleware changed the route after the `pre` check, the guard checks the
 * new route here, so a rewrite cannot reach a protected page unchecked. In bridge mode the whole
 * flow runs here, after the app's middleware has put its session into `context.session`.
 *
 * @module
 */
import type { APIContext, MiddlewareHandler, MiddlewareNext } from 'astro';
import { decideRequest, type RequestGuardInfo, requestGuardInfo, wantsJson } from './guarding.ts';
import { handleRequest } from './middleware.ts';
import { denialResponse } from './responses.ts';
import { getRuntime } from './runtime.ts';

/** The route changed after the `pre` check (a rewrite): check it, then go on or answer the denial. */
async function checkRewrittenRoute(context: APIContext, next: MiddlewareNext, info: RequestGuardInfo) {
  const runtime = getRuntime();
  const decision = await decideRequest(runtime, context, info);
  if (decision.action === 'allow') return next();
  runtime.emitDenial(decision, context);
  return denialResponse(decision, wantsJson(runtime, context));
}

/** The `post` middleware. Synchronous on the common path: the route the `pre` check saw, unchanged. */
export const onRequest: MiddlewareHandler = (context, next) => {
  if (context.isPrerendered) return next();
  if (getRuntime().bridge !== undefined) return handleRequest(context, next);
  const info = requestGuardInfo(context);
  if (info.checkedRoute === context.routePattern) return next();
  return checkRewrittenRoute(context, next, info);
};
