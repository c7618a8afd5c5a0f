/**
 * The CSRF step: unsafe methods (anything but GET, HEAD, OPTIONS) must pass the origin checks
 * and, for sessions sessionkit keeps, carry a token bound to the request's session.
 *
 * @module
 */
import { type CsrfFailure, isSafeMethod } from '../csrf/protection.ts';
import type { GuardedRequest } from './guard.ts';
import type { LoadedSession } from './load.ts';
import type { PipelineRuntime } from './options.ts';

/**
 * Checks the request. `undefined` when there is nothing to check (a safe method, an exempt
 * request, CSRF off): the common request never waits here.
 */
export function checkCsrf<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  loaded: LoadedSession,
): Promise<CsrfFailure | undefined> | undefined {
  const csrf = runtime.csrf;
  const request = subject.request;
  if (csrf === undefined || isSafeMethod(request.method) || runtime.csrfExempt?.(subject.context)) return undefined;
  return csrf
    .verifyRequest(request, {
      sessionId: loaded.valid ? loaded.session.id : undefined,
      path: subject.routePattern,
      origin: subject.url.origin,
      // Without sessionkit's own sessions (bridge mode) only the origin checks apply.
      requireToken: runtime.hooks.source === undefined,
    })
    .then((verdict) => (verdict.ok ? undefined : verdict));
}
