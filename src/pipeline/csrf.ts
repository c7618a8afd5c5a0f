/**
 * The CSRF step: unsafe methods (anything but GET, HEAD, OPTIONS) must pass the origin checks
 * and, for sessions sessionkit keeps, carry a token bound to the request's session (or, for a
 * form shown before any session existed, to its anonymous CSRF cookie). Every refusal is logged
 * once, with its reason and usual fix, and never with the token, a cookie or session data.
 *
 * @module
 */
import { explainCsrfFailure } from '../csrf/explain.ts';
import { type CsrfFailure, isSafeMethod } from '../csrf/protection.ts';
import type { GuardedRequest } from './guard.ts';
import type { LoadedSession } from './load.ts';
import type { CsrfRefusal, PipelineRuntime } from './options.ts';
import type { RequestState } from './state.ts';

/** Longest path and method put in a log line. */
const maxLoggedPathLength = 200;
const maxLoggedMethodLength = 16;

/**
 * Checks the request. `undefined` when there is nothing to check (a safe method, an exempt
 * request, CSRF off): the common request never waits here.
 */
export function checkCsrf<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  loaded: LoadedSession,
  state: RequestState,
): Promise<CsrfFailure | undefined> | undefined {
  const csrf = runtime.csrf;
  const request = subject.request;
  if (csrf === undefined || isSafeMethod(request.method) || runtime.csrfExempt?.(subject.context)) return undefined;
  return csrf
    .verifyRequest(request, {
      sessionId: loaded.valid ? loaded.session.id : undefined,
      anonymousId: state.carriedAnonymousId(),
      path: subject.routePattern,
      origin: subject.url.origin,
      // Without sessionkit's own sessions (bridge mode) only the origin checks apply.
      requireToken: runtime.hooks.source === undefined,
    })
    .then((verdict) => (verdict.ok ? undefined : verdict));
}

/** The refusal as logged and shown: reason, method, path, and what usually fixes it. */
export function describeRefusal<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  failure: CsrfFailure,
): CsrfRefusal {
  const { summary, fix } = explainCsrfFailure(failure.reason, runtime.csrfNames);
  return {
    failure,
    method: subject.request.method.slice(0, maxLoggedMethodLength),
    path: subject.url.pathname.slice(0, maxLoggedPathLength),
    summary,
    fix,
  };
}

/** Logs a refused check (one `warn` line) and tells the adapter. */
export function reportRefusal<Context>(runtime: PipelineRuntime<Context>, refusal: CsrfRefusal): void {
  const { failure, method, path } = refusal;
  runtime.reporter.log('warn', `CSRF check refused: ${refusal.summary} ${refusal.fix}`, {
    reason: failure.reason,
    method,
    path,
  });
  runtime.hooks.csrfRefused?.(refusal);
}
