/**
 * sessionkit's `pre` middleware: the request pipeline (load, CSRF, guard, the rest of the chain
 * inside the request context, commit). Registered `pre`, so the app's `src/middleware.ts` sees
 * `context.locals.sessionkit` and cannot reach a protected route first. A `context.rewrite()`
 * runs the chain again: the guard then checks the new route of the request already loaded.
 *
 * @module
 */
import type { MiddlewareHandler } from 'astro';
import { recheckRoute, runRequest } from '../pipeline/handle.ts';
import { RequestState } from '../pipeline/state.ts';
import { onPrerenderedPage } from './error-display.ts';
import { bridged, misconfiguredResponse, offerPendingSource, pipelineOrError } from './runtime.ts';

/**
 * The `pre` middleware. Bridge mode runs the pipeline in the `post` one instead, and here only
 * lets the app's middleware write the session astro-sessionkit style before it. While the
 * configuration is broken (reported once when the server loaded it), every request answers 500.
 */
export const onRequest: MiddlewareHandler = (context, next) => {
  if (context.isPrerendered) {
    // No session at build time: a helper called there is told why, instead of "no context".
    return next().catch((error: unknown) => {
      throw onPrerenderedPage(error, context.routePattern);
    });
  }
  const pipeline = pipelineOrError;
  if (pipeline instanceof Error) return misconfiguredResponse(pipeline);
  if (bridged) {
    offerPendingSource(context);
    return next();
  }
  const existing = (context.locals as { sessionkit?: unknown }).sessionkit;
  const chain = () => next();
  if (existing instanceof RequestState) {
    return recheckRoute(pipeline, existing, context.request, context.url, context.routePattern, context, chain);
  }
  return runRequest(pipeline, context.request, context.url, context.routePattern, context, chain);
};
