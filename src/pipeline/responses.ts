/**
 * The one place that decides what sessionkit answers by itself: a guard denial, a page's
 * `requireSession()` (or `ERR_FORBIDDEN`) thrown at run time, a failed CSRF check, a store
 * outage. Who asked decides the form, by the one request classifier (`guard/request-kind.ts`):
 * a page visit may be redirected (to sign in) and gets HTML; a browser's form post gets HTML and
 * is never redirected (the form would be lost); only an API request gets JSON. All are `no-store`.
 *
 * @module
 */
import { csrfFailureResponse } from '../csrf/response.ts';
import { requestKindOf } from '../guard/internal.ts';
import { safeRedirect, withReturnTo } from '../guard/redirect.ts';
import type { RequestKind } from '../guard/request-kind.ts';
import type { GuardDenial, GuardedRequest } from './guard.ts';
import type { CsrfRefusal, PipelineRuntime } from './options.ts';

/** Something sessionkit answers itself instead of running the app. */
export type Denial =
  | { readonly kind: 'guard'; readonly decision: GuardDenial }
  | { readonly kind: 'csrf'; readonly refusal: CsrfRefusal }
  | { readonly kind: 'unavailable' };

const noStore = 'no-store';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A link the page offers: where to go next. */
interface PageLink {
  readonly href: string;
  readonly label: string;
}

const homeLink: PageLink = { href: '/', label: 'Home' };

function htmlPage(
  status: number,
  title: string,
  message: string,
  options: { link?: PageLink; details?: readonly [string, string][] } = {},
): Response {
  const link = options.link ?? homeLink;
  const details =
    options.details === undefined
      ? ''
      : `<dl data-sessionkit-details style="background:#f4f4f5;color:#18181b;padding:.75rem 1rem;border-radius:.5rem">${options.details
          .map(
            ([term, text]) =>
              `<dt style="font-weight:600">${escapeHtml(term)}</dt><dd style="margin:0 0 .5rem">${escapeHtml(text)}</dd>`,
          )
          .join('')}</dl>`;
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${status} ${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${details}<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p></body></html>`;
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
 * Who sent the request (`page`, `form` or `api`), by the guard's one classifier: JSON answers for
 * `api` only (a JSON body, an `Accept` header preferring JSON, a GET under `apiPrefixes`, another
 * method without an HTML preference).
 */
export function requestKind<Context>(runtime: PipelineRuntime<Context>, subject: GuardedRequest<Context>): RequestKind {
  return requestKindOf(runtime.guard, requestFacts(subject));
}

function guardResponse<Context>(runtime: PipelineRuntime<Context>, decision: GuardDenial, kind: RequestKind): Response {
  if (decision.action === 'redirect') {
    return new Response(null, {
      status: decision.status,
      headers: { location: decision.location, 'cache-control': noStore },
    });
  }
  if (kind === 'api') return jsonDenial(decision.status, decision.body);
  switch (decision.status) {
    case 400:
      return htmlPage(400, 'Bad request', 'This address cannot be served.');
    case 401: {
      const page = htmlPage(401, 'Sign-in required', 'Your session has ended. Sign in, then send the form again.', {
        link: { href: runtime.guard.loginLocation, label: 'Sign in' },
      });
      page.headers.set('www-authenticate', 'Session');
      return page;
    }
    default:
      return htmlPage(403, 'Forbidden', 'You do not have access to this page.');
  }
}

function jsonDenial(status: number, body: unknown): Response {
  return json(status, body, status === 401 ? { 'www-authenticate': 'Session' } : {});
}

function csrfResponse(refusal: CsrfRefusal, kind: RequestKind, development: boolean): Response {
  const failure = refusal.failure;
  if (kind === 'api') return csrfFailureResponse(failure);
  // In development the page says why, and what to change; in production it stays plain.
  const details: [string, string][] | undefined = development
    ? [
        ['Reason (development only)', `${failure.reason}: ${refusal.summary}`],
        ['Usual fix', refusal.fix],
        ['Request', `${refusal.method} ${refusal.path}`],
      ]
    : undefined;
  return failure.status === 413
    ? htmlPage(413, 'Form too large', 'The form you sent is larger than this site accepts.', { details })
    : htmlPage(
        403,
        'This form has expired',
        'It was sent from another site, or from a page opened before your session changed. Go back, reload the page and try again.',
        { details },
      );
}

function unavailableResponse(kind: RequestKind): Response {
  const message = 'Sessions are temporarily unavailable. Please try again shortly.';
  const response =
    kind === 'api'
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
  const kind = requestKind(runtime, subject);
  switch (denial.kind) {
    case 'guard':
      return guardResponse(runtime, denial.decision, kind);
    case 'csrf':
      return csrfResponse(denial.refusal, kind, runtime.hooks.development === true);
    case 'unavailable':
      return unavailableResponse(kind);
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
  if (status === 401 && requestKind(runtime, subject) === 'page') {
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
  return decision.action === 'deny' && decision.status === 403 && requestKind(runtime, subject) === 'page';
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
