/**
 * The load step: the request's session from its cookie (or the store it points to), or from a
 * session kept elsewhere (bridge mode). A store outage gives an empty session marked
 * `storeUnavailable` instead of an error: the guard step then answers 503 on protected routes.
 *
 * @module
 */
import { isSessionKitError } from '../core/errors.ts';
import type { LoadResult } from '../core/manager.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import type { AnySessionData, SessionHandle } from '../core/session.ts';
import type { PipelineRuntime } from './options.ts';
import type { SessionSource } from './source.ts';

type Data = Record<string, unknown>;

/** The outcome of the load step. */
export interface LoadedSession {
  readonly session: SessionHandle<Data>;
  /** True when the request brought a valid session (its id is what CSRF tokens are checked against). */
  readonly valid: boolean;
  readonly storeUnavailable: boolean;
}

function loadedOf(result: LoadResult<Data, AnySessionData>): LoadedSession {
  return { session: result.session, valid: result.status === 'valid', storeUnavailable: false };
}

/** The stand-in while the store is unreachable: an empty session that is never saved. Rethrows any other error. */
function outage<C>(runtime: PipelineRuntime<C>, error: unknown): LoadedSession {
  if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
  return { session: runtime.operations.fresh(), valid: false, storeUnavailable: true };
}

async function loadFromSource<C>(runtime: PipelineRuntime<C>, source: SessionSource): Promise<LoadedSession> {
  const data = await source.read();
  const session = runtime.operations.adopted(data !== null && typeof data === 'object' ? data : {});
  return { session, valid: true, storeUnavailable: false };
}

/**
 * Loads the request's session. Synchronous when the manager answers synchronously (a remembered
 * cookie, no cookie).
 */
export function loadSession<C>(
  runtime: PipelineRuntime<C>,
  request: Request,
  source: SessionSource | undefined,
): MaybePromise<LoadedSession> {
  if (source !== undefined) return loadFromSource(runtime, source);
  let loading: MaybePromise<LoadResult<Data, AnySessionData>>;
  try {
    loading = runtime.operations.load(request);
  } catch (error) {
    return outage(runtime, error);
  }
  if (loading instanceof Promise) return loading.then(loadedOf, (error) => outage(runtime, error));
  return loadedOf(loading);
}
