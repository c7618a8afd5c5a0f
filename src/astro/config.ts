/**
 * The two halves of sessionkit's Astro configuration.
 *
 * - {@link SessionkitIntegrationOptions}: the integration's options in `astro.config.mjs`. Plain data only
 *   (a function is refused when the config loads), because Astro config values do not reach the
 *   server bundle as values: the integration writes them there as JSON.
 * - {@link SessionkitRuntimeConfig}: the default export of `src/sessionkit.ts`, bundled into
 *   the server like any other module, so rules with closures, stores with live clients,
 *   schemas and event hooks go here.
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import type { SessionCookieOptions } from '../core/cookie.ts';
import type { EventListener, Logger } from '../core/events.ts';
import type { ExpiryOptions } from '../core/expiry.ts';
import type { CookieSessionManager, SessionManagerOptions, StoreSessionManager } from '../core/manager.ts';
import type { StandardSchemaV1 } from '../core/schema.ts';
import type { SecretInput } from '../core/secrets.ts';
import type { AnySessionData } from '../core/session.ts';
import type { SessionStore } from '../core/store.ts';
import type { AccessHooks, GuardRule, ProtectRule, PublicRule } from '../guard/rules.ts';
import type { GetContextStore, RunWithContext } from '../pipeline/context-store.ts';
import type { SessionkitCsrfOptions } from '../pipeline/options.ts';

export type { SessionkitCsrfOptions } from '../pipeline/options.ts';

/** The context passed to `allow` and `access.check` in Astro: the middleware's `APIContext`. */
export type AstroGuardContext = {
  readonly request: Request;
  readonly url: URL;
  readonly routePattern: string;
  readonly locals: object;
};

/** A protection rule in `src/sessionkit.ts` (the guard's rule with the Astro context). */
export type SessionkitRule = GuardRule<Record<string, unknown>, AstroGuardContext>;

/** A rule in `astro.config.mjs`: plain data, so no `allow` (rules with `allow` go in `src/sessionkit.ts`). */
export type SessionkitDataRule =
  | (Omit<ProtectRule<Record<string, unknown>, AstroGuardContext>, 'allow'> & { readonly allow?: never })
  | PublicRule;

/** Options of the `sessionkit()` integration in `astro.config.mjs`. All optional. */
export interface SessionkitIntegrationOptions {
  /** Where signed-out page visits to protected routes are sent. Default `/login`. */
  loginPath?: string;
  /** Route protection rules (astro-sessionkit shape, plus `methods` and `public`); rules with `allow` go in `src/sessionkit.ts`. */
  protect?: SessionkitDataRule[];
  /** The runtime config module, relative to the project root. Default: `src/sessionkit.{ts,mts,js,mjs}` if present. */
  configFile?: string;
  /** Session cookie settings. Default `__Host-session`, HttpOnly, Secure, SameSite=Lax. */
  cookie?: SessionCookieOptions<string>;
  /** Timeouts. */
  expiry?: ExpiryOptions;
  /**
   * Name of the server secret env var (declared for you in `astro:env` as an optional secret).
   * Several secrets for rotation: comma-separated, newest first. Default `SESSIONKIT_SECRET`.
   */
  secretEnv?: string;
  /** CSRF protection for unsafe methods. On by default; `false` turns it off. */
  csrf?: false | SessionkitCsrfOptions;
  /**
   * Guard-only adoption: read the session astro-sessionkit style from Astro's own
   * `context.session.get('__session__')` instead of managing a session cookie.
   */
  bridge?: 'astro-session';
  /** Paths answered with JSON 401/403 instead of redirects. Default `['/api/']`. */
  apiPrefixes?: string[];
  /** Match protected paths case-sensitively. Default false (stricter: `/ADMIN` is treated as `/admin`). */
  caseSensitive?: boolean;
  /** Show the session and guard panel in the dev toolbar (and serve its dev-only endpoint). Default true. */
  devToolbar?: boolean;
  /**
   * A page of the app (e.g. `/403`) rendered with status 403 when a signed-in visitor lacks access
   * to a page. It must not be protected. Default: a minimal built-in page.
   */
  forbiddenPage?: string;
  /**
   * astro-sessionkit 0.1.33: the session lifetime in seconds. sessionkit's idle timeout
   * (`expiry.idleTimeoutSeconds`), at most the absolute timeout; fixed from sign-in unless
   * `touchOnRequest: true`. In bridge mode, the `ttl` of every write into Astro's session.
   */
  sessionTtl?: number;
  /**
   * astro-sessionkit 0.1.33: `true` renews the session on every request
   * (`expiry.renewAfterFraction: 0`); `false` never (`expiry.rolling: false`). Default: `false`
   * when `sessionTtl` is set, else sessionkit's throttled rolling renewal.
   */
  touchOnRequest?: boolean;
  /** astro-sessionkit 0.1.33: log to the console (sessionkit's `logger: console`), every audit event included. */
  debug?: boolean;
  /**
   * astro-sessionkit 0.1.33: every route needs a signed-in session, except the login page and
   * `exclude`. The same as adding `{ pattern: '/**', authenticated: true }` and public exceptions.
   */
  globalProtect?: boolean;
  /**
   * astro-sessionkit 0.1.33: paths `globalProtect` does not cover (patterns as in `protect`). As in
   * 0.1.33, an exclusion never lifts a `protect` rule that covers it, and needs `globalProtect: true`.
   */
  exclude?: string[];
  /**
   * The crypto engine for cookies and CSRF tokens. Default `auto`: `node:crypto` where the runtime
   * offers it (Node, Bun, Deno), WebCrypto elsewhere and on Cloudflare Workers (faster there).
   */
  cryptoEngine?: CryptoEngine;
}

/** The runtime config: the default export of `src/sessionkit.ts`. */
export interface SessionkitRuntimeConfig<Data extends AnySessionData = Record<string, unknown>> {
  /** More rules; these may close over imports. Added after the ones in `astro.config.mjs`. */
  protect?: SessionkitRule[];
  /** Role/permission extraction hooks and a check override. */
  access?: AccessHooks<Record<string, unknown>, AstroGuardContext>;
  /** Secrets, newest first, instead of the env var (e.g. from a secret manager). */
  secrets?: SecretInput | readonly SecretInput[];
  /** A server-side store (e.g. `sqliteStore()`, `redisStore({ client })`). Default: sealed cookies. */
  store?: SessionManagerOptions<Data>['store'];
  /** Standard Schema for the session data. */
  schema?: StandardSchemaV1<unknown, Data>;
  /** Initial data of a new session. */
  defaults?: Data;
  /** Audit events (no secrets, no session data). */
  onEvent?: EventListener;
  /** Where sessionkit logs (e.g. `console`, pino). Default: nowhere. */
  logger?: Logger;
  /** Custom context propagation for runtimes without `AsyncLocalStorage`. */
  runWithContext?: RunWithContext;
  /** Pair of {@link SessionkitRuntimeConfig.runWithContext}. */
  getContextStore?: GetContextStore;
  /** Requests that skip CSRF checks, in addition to `csrf.exempt`. */
  csrfExempt?: (context: AstroGuardContext) => boolean;
}

/**
 * The session manager of an app whose runtime config is `Config`: a {@link StoreSessionManager}
 * when it sets a store, else a {@link CookieSessionManager}. The integration types
 * `Astro.locals.sessionkit.manager` with it.
 *
 * @example
 * ```ts
 * type Manager = SessionkitManagerOf<typeof import('./sessionkit').default>;
 * ```
 */
export type SessionkitManagerOf<Config> = Config extends { readonly store: SessionStore }
  ? StoreSessionManager<Record<string, unknown>>
  : CookieSessionManager<Record<string, unknown>>;

/**
 * Declares the runtime config (identity function, for types: it keeps what `config` holds, so
 * `Astro.locals.sessionkit.manager` is typed for a store when it sets one).
 *
 * @example
 * ```ts
 * // src/sessionkit.ts
 * import { defineSessionkit } from 'sessionkit/astro/config';
 * import { plans } from './lib/plans';
 *
 * export default defineSessionkit({
 *   protect: [{ pattern: '/premium/**', allow: (session) => plans.isPremium(session?.plan) }],
 * });
 * ```
 */
export function defineSessionkit<Config extends SessionkitRuntimeConfig>(config: Config): Config {
  return config;
}
