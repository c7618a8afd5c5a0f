/**
 * A session kept somewhere other than sessionkit's cookie or store (Astro's own session, for
 * the bridge mode): the pipeline reads its data at the start of a request and hands back what
 * changed at the end.
 *
 * @module
 */

/** What happened to a session kept elsewhere during one request. */
export type SessionSourceChange =
  /** Signed out (destroyed), and nothing written after. */
  | { readonly action: 'destroy' }
  /**
   * The data changed. `replace`: it was signed out first, so the old session must end and a new
   * one hold `data`. `regenerate`: the id must change (a sign-in or privilege change).
   */
  | {
      readonly action: 'save';
      readonly data: Record<string, unknown>;
      readonly replace: boolean;
      readonly regenerate: boolean;
      /** The session's own lifetime in seconds (`setSession(..., { ttl })`), when one was given. */
      readonly ttlSeconds?: number | undefined;
    };

/** @internal A session kept elsewhere, for one request. */
export interface SessionSource {
  /** The session data, or `undefined` when there is none. */
  read(): Promise<Record<string, unknown> | undefined>;
  /** Applies the request's change; not called when nothing changed. */
  write(change: SessionSourceChange): Promise<void>;
}

/**
 * @internal Where an adapter leaves a {@link SessionSource} on the request's `locals` for
 * `sessionkit/server` helpers called before the pipeline runs (Astro's bridge mode: the app's own
 * middleware runs first, and writes the session astro-sessionkit style).
 */
export const pendingSourceKey: unique symbol = Symbol.for('sessionkit.pending-source') as never;
