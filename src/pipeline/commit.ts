/**
 * The commit step: saves the request's session (or hands its change to the place it is kept)
 * and adds the `Set-Cookie` lines and the cache headers of a personal response. A session is
 * saved only when it holds something the app put there (or is due for renewal): a visitor who
 * was only shown a form costs no store write and no session cookie, since that form's CSRF token
 * is bound to the anonymous CSRF cookie instead.
 *
 * @module
 */
import { readSessionCookie, serializeDeletions } from '../core/cookie.ts';
import { isSessionKitError } from '../core/errors.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import { type SessionHandle, sessionChangesOf, sessionRecordOf, sessionWindowRestartOf } from '../core/session.ts';
import type { GuardedRequest } from './guard.ts';
import type { LoadedSession } from './load.ts';
import type { PipelineRuntime } from './options.ts';
import { denialResponse, editHeaders } from './responses.ts';
import type { SessionSource, SessionSourceChange } from './source.ts';
import type { RequestState } from './state.ts';

/**
 * Adds the cookies and, on a personal response, `Cache-Control: private, no-store` and
 * `Vary: Cookie`. A response is personal when it sets a cookie, carries a CSRF token, comes from
 * a protected route, or has a signed-in session.
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
 * True when the session holds a change the app asked to keep: data set or unset, a flash message
 * written, a new id. Renewal and flash messages read (and so consumed) are not.
 */
function holdsAChange(session: SessionHandle<Record<string, unknown>>): boolean {
  const changes = sessionChangesOf(session);
  if (changes.setKeys.size > 0 || changes.unsetKeys.size > 0 || changes.previousId !== undefined) return true;
  return Object.keys(sessionRecordOf(session).flash).length > 0;
}

function joined(cookies: string[], anonymous: string[]): string[] {
  return anonymous.length === 0 ? cookies : [...cookies, ...anonymous];
}

/**
 * The session could not be saved: the store failed while saving it, or could not load it in the
 * first place (then nothing is even tried). What the app did decides the answer:
 *
 * - a sign-out (or a sign-out then more session work) still ends the session on the browser:
 *   its cookie is cleared, and the record, if the store did not delete it, stays until it
 *   expires or is revoked (logged). A new sign-in in the same request was not saved: 503;
 * - a session only due for renewal, or whose flash messages were only read, keeps its cookie
 *   as it is: the page is served; the renewal waits for a later request, and a message read may
 *   show once more;
 * - any other change was not saved: 503, the browser's cookie untouched.
 */
function unsaved<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  state: RequestState,
  response: Response,
  loaded: LoadedSession,
  anonymous: string[],
): Response {
  const session = state.session;
  if (state.replaced || session.isDestroyed) {
    const cookie = runtime.manager.cookie;
    const header = subject.request.headers.get('cookie');
    const cleared = serializeDeletions(cookie, readSessionCookie(header, cookie).presentNames);
    reportUnconfirmedSignOut(runtime, loaded);
    const signedInAgain = !session.isDestroyed && sessionChangesOf(session).setKeys.size > 0;
    if (!signedInAgain) return withSessionHeaders(response, state, joined(cleared, anonymous));
    return editHeaders(denialResponse(runtime, subject, { kind: 'unavailable' }), (headers) => {
      for (const line of cleared) headers.append('set-cookie', line);
    });
  }
  if (!holdsAChange(session)) {
    if (!state.storeUnavailable) {
      runtime.reporter.log(
        'warn',
        'session renewal (or a flash message read) not saved: the session store failed; the cookie was kept as it is',
      );
    }
    return withSessionHeaders(response, state, anonymous);
  }
  return denialResponse(runtime, subject, { kind: 'unavailable' });
}

/** Logs a sign-out whose record the store may still hold: with its id and expiry when it was loaded. */
function reportUnconfirmedSignOut<Context>(runtime: PipelineRuntime<Context>, loaded: LoadedSession): void {
  const message =
    "sign-out: the session store failed, so the session cookie was cleared without the store's confirmation; if the record was not deleted it stays in the store until it expires";
  if (!loaded.valid) {
    runtime.reporter.log('error', `${message} or is revoked`);
    return;
  }
  const ended = loaded.session;
  runtime.reporter.log('error', `${message} (${new Date(ended.expiresAt * 1000).toISOString()}) or is revoked`, {
    sessionId: sessionChangesOf(ended).previousId ?? ended.id,
    expiresAt: ended.expiresAt,
  });
}

/**
 * Commits the request's session onto `response`. Synchronous for the common request (one
 * session, unchanged). A store outage while saving answers 503 unless the request signed out,
 * or changed nothing the app asked to keep (see `unsaved`); other errors propagate.
 */
export function commitResponse<Context>(
  runtime: PipelineRuntime<Context>,
  subject: GuardedRequest<Context>,
  state: RequestState,
  response: Response,
  source: SessionSource | undefined,
  loaded: LoadedSession,
): MaybePromise<Response> {
  if (source !== undefined) return commitToSource(source, state, response);
  // Read before the commit, which forgets what changed.
  const anonymous = state.anonymousCookieLines();
  if (state.storeUnavailable) return unsaved(runtime, subject, state, response, loaded, anonymous);
  const failed = (error: unknown): Response => {
    if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
    return unsaved(runtime, subject, state, response, loaded, anonymous);
  };
  let cookies: MaybePromise<string[]>;
  try {
    cookies = runtime.operations.commit(state.session);
  } catch (error) {
    return failed(error);
  }
  if (cookies instanceof Promise) {
    return cookies.then((lines) => withSessionHeaders(response, state, joined(lines, anonymous)), failed);
  }
  return withSessionHeaders(response, state, joined(cookies, anonymous));
}
