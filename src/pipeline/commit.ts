/**
 * The commit step: saves the request's session (or hands its change to the place it is kept)
 * and adds the `Set-Cookie` lines and the cache headers of a personal response.
 *
 * @module
 */
import { isSessionKitError } from '../core/errors.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import { sessionChangesOf, sessionWindowRestartOf } from '../core/session.ts';
import type { GuardedRequest } from './guard.ts';
import type { PipelineRuntime } from './options.ts';
import { denialResponse, editHeaders } from './responses.ts';
import type { SessionSource, SessionSourceChange } from './source.ts';
import type { RequestState } from './state.ts';

/**
 * Adds the cookies and, on a personal response, `Cache-Control: private, no-store` and
 * `Vary: Cookie`. A response is personal when it sets a cookie, carries the session's CSRF token,
 * comes from a protected route, or has a signed-in session.
 */
export function withSessionHeaders(response: Response, state: RequestState, cookies: readonly string[]): Response {
  const personal = cookies.length > 0 || state.tokenIssued || state.guarded || state.session.data.userId !== undefined;
  if (!personal) return response;
  return editHeaders(response, (headers) => {
    if (state.guarded || !headers.has('cache-control')) headers.set('cache-control', 'private, no-store');
    for (const line of cookies) headers.append('set-cookie', line);
    headers.append('vary', 'Cookie');
  });
}

/** What changed in a session kept elsewhere, or `undefined` when nothing did. */
function sourceChange(state: RequestState): SessionSourceChange | undefined {
  const session = state.session;
  const signedOut = state.replaced;
  if (session.isDestroyed || (signedOut && !session.isModified)) return { action: 'destroy' };
  if (!session.isModified && !signedOut) return undefined;
  const regenerated = sessionChangesOf(session).previousId !== undefined;
  const window = sessionWindowRestartOf(session);
  return {
    action: 'save',
    data: { ...session.data },
    replace: signedOut,
    regenerate: !signedOut && regenerated,
    ttlSeconds: typeof window === 'number' ? window : undefined,
  };
}

async function commitToSource(source: SessionSource, state: RequestState, response: Response): Promise<Response> {
  const change = sourceChange(state);
  if (change !== undefined) await source.write(change);
  return withSessionHeaders(response, state, []);
}

/**
 * Commits the request's session onto `response`. Synchronous for the common request (one
 * session, unchanged). A store outage while saving answers 503; other errors propagate.
 */
export function commitResponse<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  state: RequestState,
  response: Response,
  source: SessionSource | undefined,
): MaybePromise<Response> {
  if (source !== undefined) return commitToSource(source, state, response);
  if (state.storeUnavailable) return withSessionHeaders(response, state, []);
  const failed = (error: unknown): Response => {
    if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
    return denialResponse(runtime, subject, { kind: 'unavailable' });
  };
  // A new session whose CSRF token went out must be saved, or the token is useless next time.
  const always = state.tokenIssued && state.session.isNew;
  let cookies: MaybePromise<string[]>;
  try {
    cookies = runtime.operations.commit(state.session, always ? { always } : undefined);
  } catch (error) {
    return failed(error);
  }
  if (cookies instanceof Promise) {
    return cookies.then((lines) => withSessionHeaders(response, state, lines), failed);
  }
  return withSessionHeaders(response, state, cookies);
}
