/**
 * One request through the pipeline: load, CSRF, guard, the app (`next`, inside the request
 * context), commit, headers. Each step returns a promise only when it really waits, so the
 * common request (remembered cookie, safe method, synchronous guard, unchanged session) awaits
 * nothing but the app.
 *
 * @module
 */
import { isSessionKitError } from '../core/errors.ts';
import type { MaybePromise } from '../core/maybe-promise.ts';
import type { CsrfFailure } from '../csrf/protection.ts';
import type { GuardDecision } from '../guard/index.ts';
import { commitResponse } from './commit.ts';
import { checkCsrf, describeRefusal, reportRefusal } from './csrf.ts';
import { type GuardDenial, type GuardedRequest, guardRequest, isGuarded, reportDenial } from './guard.ts';
import { type LoadedSession, loadSession } from './load.ts';
import type { PipelineRuntime } from './options.ts';
import { denialResponse, isForbiddenPageVisit, thrownDenial } from './responses.ts';
import type { SessionSource } from './source.ts';
import { RequestState } from './state.ts';

type Data = Record<string, unknown>;

/** The app behind the pipeline: called with the request state once the request passed the checks. */
export type PipelineNext = (state: RequestState) => Response | Promise<Response>;

/** Runs `next` with `state` as the request context of `sessionkit/server` helpers. */
function runInContext<Context>(
  runtime: PipelineRuntime<Context>,
  state: RequestState,
  next: PipelineNext,
): Promise<Response> {
  try {
    const store = runtime.contextStore;
    const result = store === undefined ? next(state) : store.run(state, () => next(state));
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** One request's pass through the pipeline once its session is loaded. */
class RequestFlow<Context> implements GuardedRequest<Context> {
  readonly source: SessionSource | undefined;
  state!: RequestState;
  loaded!: LoadedSession;

  constructor(
    readonly runtime: PipelineRuntime<Context>,
    readonly request: Request,
    readonly url: URL,
    readonly routePattern: string | undefined,
    readonly context: Context,
    readonly next: PipelineNext,
  ) {
    this.source = runtime.hooks.source?.(context);
  }

  /** The loaded session's request: the outage answer, or the request state and the checks. */
  begin(loaded: LoadedSession): MaybePromise<Response> {
    const runtime = this.runtime;
    if (loaded.storeUnavailable && isGuarded(runtime, this)) {
      return denialResponse(runtime, this, { kind: 'unavailable' });
    }
    this.loaded = loaded;
    const state = new RequestState(
      loaded.session,
      runtime.manager,
      runtime.operations,
      runtime.access as RequestState['access'],
      runtime.tokens,
      loaded.storeUnavailable,
      this.request,
    );
    this.state = state;
    runtime.hooks.attach?.(this.context, state);
    const preparing = state.prepareToken();
    return preparing === undefined ? this.checkCsrf() : preparing.then(() => this.checkCsrf());
  }

  /** The CSRF check of unsafe methods, then the route. A refused request runs nothing and commits nothing. */
  checkCsrf(): MaybePromise<Response> {
    const checking = checkCsrf(this.runtime, this, this.loaded, this.state);
    if (checking === undefined) return this.route();
    return checking.then((failure) => (failure === undefined ? this.route() : this.refuse(failure)));
  }

  /**
   * A refused CSRF check. When the store could not load the session, the token could not be
   * checked against it: that is the outage's answer (503), not an expired form.
   */
  refuse(failure: CsrfFailure): Response {
    const { runtime, loaded } = this;
    if (loaded.storeUnavailable && (failure.reason === 'no-session' || failure.reason === 'bad-token')) {
      return denialResponse(runtime, this, { kind: 'unavailable' });
    }
    const refusal = describeRefusal(runtime, this, failure);
    reportRefusal(runtime, refusal);
    return denialResponse(runtime, this, { kind: 'csrf', refusal });
  }

  /** The guard's decision on the route. */
  route(): MaybePromise<Response> {
    const decision = guardRequest(this.runtime, this, this.state);
    return decision instanceof Promise ? decision.then((settled) => this.respond(settled)) : this.respond(decision);
  }

  /** Runs the app in the request context (or answers the denial), then commits. */
  respond(decision: GuardDecision<Data, Context>): Promise<Response> {
    if (decision.action !== 'allow') {
      reportDenial(this.runtime, this, decision, this.state.session.id);
      return this.deny(decision);
    }
    return runInContext(this.runtime, this.state, this.next).then(
      (response) => this.commit(response),
      (error) => this.appFailed(error),
    );
  }

  /** sessionkit's answer to a denial, committed like a page: the adapter's forbidden page, or the built-in answer. */
  deny(decision: GuardDenial): Promise<Response> {
    const { runtime, state } = this;
    const forbidden = runtime.hooks.forbidden;
    if (forbidden !== undefined && isForbiddenPageVisit(runtime, this, decision)) {
      return forbidden(this.context, state).then((page) => this.commit(page));
    }
    return Promise.resolve(this.commit(denialResponse(runtime, this, { kind: 'guard', decision })));
  }

  /** A page that threw `requireSession()`'s error, or met a store outage: the same answers as the guard's. */
  appFailed(error: unknown): MaybePromise<Response> {
    if (isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) {
      return denialResponse(this.runtime, this, { kind: 'unavailable' });
    }
    if (!isSessionKitError(error, 'ERR_UNAUTHENTICATED') && !isSessionKitError(error, 'ERR_FORBIDDEN')) throw error;
    return this.deny(thrownDenial(this.runtime, this, error.status as 401 | 403));
  }

  commit(response: Response): MaybePromise<Response> {
    return commitResponse(this.runtime, this, this.state, response, this.source, this.loaded);
  }
}

/**
 * @internal The whole pipeline for one request. Returns a promise only when something waits; a
 * synchronous throw is the framework's error path, as a rejection would be.
 *
 * @param routePattern - the router's matched route (checked by the guard too), when there is one
 * @param context - what rules' `allow`, `access.check` and `csrfExempt` receive
 */
export function runRequest<Context>(
  runtime: PipelineRuntime<Context>,
  request: Request,
  url: URL,
  routePattern: string | undefined,
  context: Context,
  next: PipelineNext,
): MaybePromise<Response> {
  const flow = new RequestFlow(runtime, request, url, routePattern, context, next);
  const loaded = loadSession(runtime, request, flow.source);
  if (loaded instanceof Promise) return loaded.then((settled) => flow.begin(settled));
  return flow.begin(loaded);
}

/**
 * @internal A request already in the pipeline reaches another route (a framework rewrite): the
 * guard checks the new route; the outer run commits the session. Denials are the built-in answers.
 */
export function recheckRoute<Context>(
  runtime: PipelineRuntime<Context>,
  state: RequestState,
  request: Request,
  url: URL,
  routePattern: string | undefined,
  context: Context,
  next: PipelineNext,
): MaybePromise<Response> {
  const subject: GuardedRequest<Context> = { request, url, routePattern, context };
  const answer = (decision: GuardDecision<Data, Context>): MaybePromise<Response> => {
    if (decision.action === 'allow') return runInContext(runtime, state, next);
    reportDenial(runtime, subject, decision, state.session.id);
    return denialResponse(runtime, subject, { kind: 'guard', decision });
  };
  const decision = guardRequest(runtime, subject, state);
  return decision instanceof Promise ? decision.then(answer) : answer(decision);
}
