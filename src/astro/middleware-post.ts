/**
 * sessionkit's `post` middleware: runs after the user's middleware. When a `next('/other')`
 * rewrite in the user's middleware changed the route after the `pre` check, the guard checks the
 * new route here, so a rewrite cannot reach a protected page unchecked. In bridge mode the whole
 * flow runs here, after the app's middleware has put its session into `context.session`.
 *
 * @module
 */
import type { MiddlewareHandler } from 'astro';
import { decideRequest, requestGuardInfo, wantsJson } from './guarding.ts';
import { handleRequest } from './middleware.ts';
import { denialResponse } from './responses.ts';
import { getRuntime } from './runtime.ts';

/** The `post` middleware. */
export const onRequest: MiddlewareHandler = async (context, next) => {
  if (context.isPrerendered) return next();
  const runtime = getRuntime();
  if (runtime.bridge !== undefined) return handleRequest(context, next);
  const info = requestGuardInfo(context);
  if (info.checkedRoute === context.routePattern) return next();
  const decision = await decideRequest(runtime, context, info);
  if (decision.action === 'allow') return next();
  runtime.emitDenial(decision, context);
  return denialResponse(decision, wantsJson(runtime, context));
};
