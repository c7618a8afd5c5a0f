/**
 * sessionkit's `post` middleware: runs after the user's middleware. When a `next('/other')`
 * rewrite in the user's middleware changed the route after the `pre` check, the guard checks the
 * new route here, so a rewrite cannot reach a protected page unchecked.
 *
 * @module
 */
import type { MiddlewareHandler } from 'astro';
import { decideRequest, requestGuardInfo } from './guarding.ts';
import { denialResponse, prefersJson } from './responses.ts';
import { getRuntime } from './runtime.ts';

/** The `post` middleware. */
export const onRequest: MiddlewareHandler = async (context, next) => {
  if (context.isPrerendered) return next();
  const info = requestGuardInfo(context);
  if (info.checkedRoute === context.routePattern) return next();
  const runtime = getRuntime();
  const decision = await decideRequest(runtime, context, info);
  if (decision.action === 'allow') return next();
  runtime.emitDenial(decision, context);
  return denialResponse(decision, prefersJson(context.request, context.url.pathname, runtime.apiPrefixes));
};
