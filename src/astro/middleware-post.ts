/**
 * sessionkit's `post` middleware, after the app's own. When a `next('/other')` rewrite in the
 * app's middleware changed the route after the `pre` check, the guard checks the new route here,
 * so a rewrite cannot reach a protected page unchecked. In bridge mode the whole pipeline runs
 * here, after the app's middleware has put its session into `context.session`.
 *
 * @module
 */
import type { MiddlewareHandler } from 'astro';
import { recheckRoute, runRequest } from '../pipeline/handle.ts';
import { RequestState } from '../pipeline/state.ts';
import { bridged, pipelineOrError } from './runtime.ts';

/** The `post` middleware. Synchronous on the common path: the route the `pre` check saw, unchanged. */
export const onRequest: MiddlewareHandler = (context, next) => {
  // A broken configuration was answered by the `pre` middleware already.
  if (context.isPrerendered || pipelineOrError instanceof Error) return next();
  const state = (context.locals as { sessionkit?: unknown }).sessionkit;
  if (state instanceof RequestState) {
    if (state.checkedRoute === context.routePattern) return next();
    return recheckRoute(pipelineOrError, state, context.request, context.url, context.routePattern, context, () =>
      next(),
    );
  }
  if (!bridged) return next();
  return runRequest(pipelineOrError, context.request, context.url, context.routePattern, context, () => next());
};
