/**
 * HTTP answers the middleware gives on its own: guard denials, outages, and config errors.
 * Pages get a small HTML page; API requests get JSON. All are `no-store`.
 *
 * @module
 */
import type { CsrfFailure } from '../csrf/protection.ts';
import { csrfFailureResponse } from '../csrf/response.ts';
import type { GuardDecision } from '../guard/index.ts';

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

/** The response for a non-allow guard decision. */
export function denialResponse(
  decision: Exclude<GuardDecision<never, never>, { action: 'allow' }>,
  json: boolean,
): Response {
  if (decision.action === 'redirect') {
    return new Response(null, {
      status: decision.status,
      headers: { location: decision.location, 'cache-control': noStore },
    });
  }
  if (json || decision.status === 401) return jsonResponse(decision.status, decision.body);
  return decision.status === 400
    ? htmlPage(400, 'Bad request', 'This address cannot be served.')
    : htmlPage(403, 'Forbidden', 'You do not have access to this page.');
}

function jsonResponse(status: number, body: unknown): Response {
  return json(status, body, status === 401 ? { 'www-authenticate': 'Session' } : {});
}

/** The answer to a failed CSRF check: JSON for API clients, a page for browsers submitting forms. */
export function csrfRejection(failure: CsrfFailure, wantsJson: boolean): Response {
  if (wantsJson) return csrfFailureResponse(failure);
  return failure.status === 413
    ? htmlPage(413, 'Form too large', 'The form you sent is larger than this site accepts.')
    : htmlPage(
        403,
        'This form has expired',
        'It was sent from another site, or from a page opened before your session changed. Go back, reload the page and try again.',
      );
}

/** 503 while the session store is unreachable (guarded routes only; the session cookie is left alone). */
export function unavailableResponse(wantsJson: boolean): Response {
  const message = 'Sessions are temporarily unavailable. Please try again shortly.';
  const response = wantsJson
    ? json(503, { error: { code: 'ERR_STORE_UNAVAILABLE', message } })
    : htmlPage(503, 'Service unavailable', message);
  response.headers.set('retry-after', '5');
  return response;
}

/**
 * Applies `edit` to the response's headers, on a copy of the response when they are immutable
 * (`Response.redirect()` and `fetch()` responses: Astro fails the request if cookies are added
 * to one). Immutable headers refuse the first change, so nothing is half-applied.
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
