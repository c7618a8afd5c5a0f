/**
 * Security events and logging. Events carry ids and reasons, never secrets, tokens or
 * session data, so an app can write them straight to an audit log.
 *
 * @module
 */

/** Why a presented session was rejected. */
export type RejectReason =
  /** Past its absolute or idle expiry. */
  | 'expired'
  /**
   * Issued or renewed later than now plus the clock-skew allowance (`expiry.clockSkewSeconds`):
   * a server clock runs fast, or the record carries a forged date.
   */
  | 'future_dated'
  /** Authentication failed: modified or forged. */
  | 'tampered'
  /** Sealed under a secret that is not configured (rotated out, or another app's). */
  | 'unknown_key'
  /** Not a sessionkit token at all. */
  | 'malformed'
  /** Opened, but the data failed the configured schema. */
  | 'invalid_data'
  /** Store mode: the token is not (or no longer) in the store, or its secret does not match. */
  | 'revoked';

/** An event emitted through the `onEvent` option. */
export type SessionEvent =
  | { readonly type: 'session.created'; readonly sessionId: string; readonly userId?: string }
  | { readonly type: 'session.renewed'; readonly sessionId: string }
  | { readonly type: 'session.rotated'; readonly sessionId: string; readonly previousSessionId: string }
  | { readonly type: 'session.destroyed'; readonly sessionId: string }
  | { readonly type: 'session.revoked'; readonly sessionId: string; readonly userId?: string }
  | { readonly type: 'session.rejected'; readonly reason: RejectReason; readonly sessionId?: string }
  | {
      readonly type: 'csrf.failed';
      readonly reason: string;
      readonly method: string;
      readonly path: string;
      /** The session the request was checked against, when it had one. */
      readonly sessionId?: string;
    }
  | {
      readonly type: 'guard.denied';
      readonly status: number;
      readonly path: string;
      readonly pattern?: string;
      readonly sessionId?: string;
    }
  | { readonly type: 'store.unavailable'; readonly operation: string };

/** Receives {@link SessionEvent}s. Errors it throws are caught and logged, never propagated. */
export type EventListener = (event: SessionEvent) => void;

/** Structured fields of a log line (no secrets are ever put here). */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** A minimal logger. `console` fits; so do pino and Astro's integration logger. */
export interface Logger {
  debug?(message: string, fields?: LogFields): void;
  info?(message: string, fields?: LogFields): void;
  warn?(message: string, fields?: LogFields): void;
  error?(message: string, fields?: LogFields): void;
}

/** Options shared by every factory that reports. */
export interface ReportingOptions {
  /** Where sessionkit writes its own log lines. Default: nowhere. */
  logger?: Logger;
  /** Audit hook. */
  onEvent?: EventListener;
}

/** A bound reporter: emits events and log lines, never throws. */
export interface Reporter {
  emit(event: SessionEvent): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void;
}

/** Builds a {@link Reporter} from the user's logger and event listener. */
export function createReporter(options: ReportingOptions): Reporter {
  const { logger, onEvent } = options;
  const log: Reporter['log'] = (level, message, fields) => {
    try {
      logger?.[level]?.(`[sessionkit] ${message}`, fields);
    } catch {
      // A broken logger must not break a request.
    }
  };
  return {
    log,
    emit(event) {
      if (onEvent === undefined) return;
      try {
        onEvent(event);
      } catch (error) {
        log('error', 'onEvent listener threw', { type: event.type, error: String(error) });
      }
    },
  };
}
