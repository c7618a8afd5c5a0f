/**
 * Where session records live between requests. The session manager reads the cookie and
 * hands its value to a backend: the sealed backend opens the record from the cookie itself;
 * a store backend looks it up by token. Everything else (expiry, schema, renewal, cookie
 * writing, events) is the manager's and identical in both modes.
 *
 * @module
 */
import type { RejectReason } from './events.ts';
import type { AnySessionData, SessionChanges, SessionRecord } from './session.ts';

/** The result of {@link SessionBackend.read}. */
export type BackendReadResult<Data extends AnySessionData, Flash extends AnySessionData> =
  | {
      readonly ok: true;
      readonly record: SessionRecord<Data, Flash>;
      /** True when the cookie must be re-issued even if nothing changed (e.g. sealed under an older key). */
      readonly reissue: boolean;
      /** Backend-private state carried from read to write (e.g. a version for optimistic updates). */
      readonly state?: unknown;
    }
  | { readonly ok: false; readonly reason: RejectReason };

/** The result of {@link SessionBackend.write}. */
export interface BackendWriteResult {
  /** The cookie value that now refers to the record. */
  readonly cookieValue: string;
  /** Backend-private state for a later write in the same request. */
  readonly state?: unknown;
}

/** A place to keep session records. */
export interface SessionBackend<Data extends AnySessionData, Flash extends AnySessionData> {
  /** `cookie` keeps the record in the cookie; `store` keeps it server-side. */
  readonly kind: 'cookie' | 'store';
  /** Opens the record a cookie value refers to. Expected failures are results, not throws. */
  read(cookieValue: string, nowSeconds: number): Promise<BackendReadResult<Data, Flash>>;
  /**
   * Persists `record` (already renewed by the manager) and returns the cookie value to send,
   * with the backend state to keep for a later write in the same request.
   * `state` is what `read` (or the previous `write`) returned; undefined for a new session.
   */
  write(record: SessionRecord<Data, Flash>, changes: SessionChanges, state: unknown): Promise<BackendWriteResult>;
  /** Deletes server-side state for a destroyed session (no-op for cookies). */
  remove(record: SessionRecord<Data, Flash>, state: unknown): Promise<void>;
}
