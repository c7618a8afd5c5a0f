/**
 * The one place that decides what sessionkit answers by itself: a guard denial, a page's
 * `requireSession()` (or `ERR_FORBIDDEN`) thrown at run time, a failed CSRF check, a store
 * outage. Page requests get a redirect or a small HTML page; API requests get JSON. All are
 * `no-store`.
 *
 * @module
 */
import type { CsrfFailure } from '../csrf/protection.ts';
import { csrfFailureResponse } from '../csrf/response.ts';
import { requestKindOf } from '../guard/internal.ts';
import { safeRedirect, withReturnTo } from '../guard/redirect.ts';
import type { GuardDenial, GuardedRequest } from './guard.ts';
import type { PipelineRuntime } from './options.ts';

/** Something sessionkit answers itself instead of running the app. */
export type Denial =
  | { readonly kind: 'guard'; readonly decision: GuardDenial }
  | { readonly kind: 'csrf'; readonly failure: CsrfFailure }
  | { readonly kind: 'unavailable' };

const noStore = 'no-store';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function htmlPage(status: number, title: string, message: string): Response {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${status} ${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="/">Home</a></p></body></html>`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': noStore },
  });
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': noStore, ...extra },
  });
}

/** The request facts the guard's one classifier reads. */
function requestFacts<Context>(subject: GuardedRequest<Context>) {
  const request = subject.request;
  return {
    path: subject.url.pathname,
    method: request.method,
    accept: request.headers.get('accept'),
    contentType: request.headers.get('content-type'),
  };
}

/**
 * True when the request is an API request (JSON answers), classified exactly as the guard does:
 * a method other than GET/HEAD, a JSON body, a path under `apiPrefixes`, or an `Accept` header
 * preferring JSON.
 */
export function wantsJson<Context>(runtime: PipelineRuntime<Context>, subject: GuardedRequest<Context>): boolean {
  return runtime.guard.classify(requestFacts(subject)) === 'api';
}

/**
 * True when a CSRF refusal should be JSON: by the same classifier, anything but a page visit or a
 * browser's form submission (a form post gets an HTML page that says what happened).
 */
function csrfWantsJson<Context>(runtime: PipelineRuntime<Context>, subject: GuardedRequest<Context>): boolean {
  return requestKindOf(runtime.guard, requestFacts(subject)) === 'api';
}

function guardResponse(decision: GuardDenial, json: boolean): Response {
  if (decision.action === 'redirect') {
    return new Response(null, {
      status: decision.status,
      headers: { location: decision.location, 'cache-control': noStore },
    });
  }
  if (json || decision.status === 401) return jsonDenial(decision.status, decision.body);
  return decision.status === 400
    ? htmlPage(400, 'Bad request', 'This address cannot be served.')
    : htmlPage(403, 'Forbidden', 'You do not have access to this page.');
}

function jsonDenial(status: number, body: unknown): Response {
  return json(status, body, status === 401 ? { 'www-authenticate': 'Session' } : {});
}

function csrfResponse(failure: CsrfFailure, json: boolean): Response {
  if (json) return csrfFailureResponse(failure);
  return failure.status === 413
    ? htmlPage(413, 'Form too large', 'The form you sent is larger than this site accepts.')
    : htmlPage(
        403,
        'This form has expired',
        'It was sent from another site, or from a page opened before your session changed. Go back, reload the page and try again.',
      );
}

function unavailableResponse(json: boolean): Response {
  const message = 'Sessions are temporarily unavailable. Please try again shortly.';
  const response = json
    ? jsonDenial(503, { error: { code: 'ERR_STORE_UNAVAILABLE', message } })
    : htmlPage(503, 'Service unavailable', message);
  response.headers.set('retry-after', '5');
  return response;
}

/** sessionkit's answer to `denial`. */
export function denialResponse<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  denial: Denial,
): Response {
  switch (denial.kind) {
    case 'guard':
      return guardResponse(denial.decision, wantsJson(runtime, subject));
    case 'csrf':
      return csrfResponse(denial.failure, csrfWantsJson(runtime, subject));
    case 'unavailable':
      return unavailableResponse(wantsJson(runtime, subject));
  }
}

/**
 * The guard denial for a page that threw `ERR_UNAUTHENTICATED` (`requireSession()`) or
 * `ERR_FORBIDDEN`: a page visit without a session is sent to sign in, like a guard redirect.
 */
export function thrownDenial<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  status: 401 | 403,
): GuardDenial {
  const url = subject.url;
  if (status === 401 && !wantsJson(runtime, subject)) {
    const location = withReturnTo(runtime.guard.loginLocation, safeRedirect(url.pathname + url.search, url));
    return { action: 'redirect', status: 303, location, reason: 'unauthenticated', rule: undefined as never };
  }
  const body =
    status === 401
      ? { error: { code: 'ERR_UNAUTHENTICATED' as const, message: 'Sign-in required.' } }
      : { error: { code: 'ERR_FORBIDDEN' as const, message: 'Access denied.' } };
  return { action: 'deny', status, reason: status === 401 ? 'unauthenticated' : 'forbidden', body, rule: undefined };
}

/** True for a denial that a framework's own forbidden page may answer: a page visit refused with 403. */
export function isForbiddenPageVisit<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  decision: GuardDenial,
): boolean {
  return decision.action === 'deny' && decision.status === 403 && !wantsJson(runtime, subject);
}

/**
 * Applies `edit` to the response's headers, on a copy of the response when they are immutable
 * (`Response.redirect()` and `fetch()` responses). Immutable headers refuse the first change, so
 * nothing is half-applied.
 */
export function editHeaders(response: Response, edit: (headers: Headers) => void): Response {
  try {
    edit(response.headers);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    edit(copy.headers);
    return copy;
  }
}
