/**
 * The pipeline's options and their construction: validates everything once and builds the
 * session manager, guard, CSRF protection and reporter a request then only uses.
 *
 * @module
 */

import type { CryptoEngine } from '../core/aead.ts';
import type { SessionCookieOptions } from '../core/cookie.ts';
import { configError } from '../core/errors.ts';
import { createReporter, type EventListener, type Logger, type Reporter } from '../core/events.ts';
import type { ExpiryOptions } from '../core/expiry.ts';
import type { KeyRing } from '../core/keyring.ts';
import {
  createSessionManager,
  type SessionManager,
  type SessionOperations,
  sessionOperationsOf,
} from '../core/manager.ts';
import { assertOptionsObject } from '../core/options.ts';
import { secureRandomBytes } from '../core/runtime.ts';
import type { StandardSchemaV1 } from '../core/schema.ts';
import type { SecretInput } from '../core/secrets.ts';
import type { AnySessionData } from '../core/session.ts';
import type { SessionStore } from '../core/store.ts';
import { createAnonymousCsrfCookie } from '../csrf/anonymous.ts';
import type { CsrfExemptOption } from '../csrf/exempt.ts';
import type { CsrfHintNames } from '../csrf/explain.ts';
import {
  type CsrfFailure,
  type CsrfProtection,
  createCsrfProtection,
  immediateTokenIssuerOf,
} from '../csrf/protection.ts';
import { guardNames } from '../guard/compile.ts';
import { createNamedGuard, type Guard } from '../guard/guard.ts';
import type { AccessHooks, GuardRule } from '../guard/rules.ts';
import { type ContextStore, getContextStore, setContextStore } from './context-store.ts';
import type { SessionSource } from './source.ts';
import type { RequestState, RequestTokens } from './state.ts';

type Data = Record<string, unknown>;

/**
 * CSRF settings of {@link SessionkitOptions}.
 *
 * @example
 * ```ts
 * const csrf: SessionkitCsrfOptions = { exempt: ['/webhooks/**'], trustedOrigins: ['https://admin.example.com'] };
 * ```
 */
export interface SessionkitCsrfOptions {
  /** Paths that skip CSRF checks (webhooks): exact paths or `prefix/**` patterns. */
  exempt?: readonly string[];
  /** Extra origins allowed to post (e.g. `https://admin.example.com`). */
  trustedOrigins?: readonly string[];
  /** Header carrying the token. Default `x-csrf-token`. */
  headerName?: string;
  /** Form field carrying the token. Default `csrf_token`. */
  fieldName?: string;
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). Default `false`. */
  allowSameSite?: boolean;
}

/**
 * Options of `createSessionkit()`: sessions, route rules and CSRF for one app.
 *
 * @typeParam Context - what the framework passes to `allow`, `access.check` and `csrfExempt`
 *   (Astro: the `APIContext`; Hono: the `Context`; the fetch handler: `{ request, url }`)
 *
 * @example
 * ```ts
 * const options: SessionkitOptions = {
 *   secrets: process.env.SESSION_SECRET!,
 *   protect: [{ pattern: '/admin/**', role: 'admin' }],
 * };
 * ```
 */
export interface SessionkitOptions<Context = unknown> {
  /** One secret or a list, newest first (>= 256 bits each), or a key ring. */
  secrets: SecretInput | readonly SecretInput[] | KeyRing;
  /** A server-side store (`memoryStore()`, `redisStore({ client })`, ...). Default: sealed cookies. */
  store?: SessionStore;
  /** Session cookie settings. Default `__Host-session`, HttpOnly, Secure, SameSite=Lax. */
  cookie?: SessionCookieOptions<string>;
  /** Timeouts. */
  expiry?: ExpiryOptions;
  /** Standard Schema for the session data. */
  schema?: StandardSchemaV1<unknown, Data>;
  /** Initial data of a new session. */
  defaults?: Data;
  /** Route protection rules. */
  protect?: readonly GuardRule<Data, Context>[];
  /** Role/permission extraction hooks and a check override. */
  access?: AccessHooks<Data, Context>;
  /** Where signed-out page visits to protected routes are sent. Default `/login`. */
  loginPath?: string;
  /** Paths answered with JSON 401/403 instead of redirects. Default `['/api/']`. */
  apiPrefixes?: readonly string[];
  /** Match protected paths case-sensitively. Default false. */
  caseSensitive?: boolean;
  /** The app's base path: removed from request paths; rules and `loginPath` are written without it. Default `/`. */
  base?: string;
  /** CSRF protection of unsafe methods. On by default; `false` turns it off. */
  csrf?: false | SessionkitCsrfOptions;
  /** Requests that skip CSRF checks, in addition to `csrf.exempt`. */
  csrfExempt?: (context: Context) => boolean;
  /** How `sessionkit/server` helpers find the request: default `AsyncLocalStorage` where the runtime has it. */
  contextStore?: ContextStore;
  /** Audit events (no secrets, no session data). */
  onEvent?: EventListener;
  /** Where sessionkit logs (a refused CSRF check is one `warn` line naming its reason and fix). Default: nowhere. */
  logger?: Logger;
  /**
   * The crypto engine for cookies and CSRF tokens. Default `auto`: `node:crypto` where the runtime
   * offers it (Node, Bun, Deno), WebCrypto elsewhere and on Cloudflare Workers (faster there).
   */
  cryptoEngine?: CryptoEngine;
}

/** @internal What a framework adapter adds to the pipeline. */
export interface AdapterHooks<Context> {
  /** Called with the request state as soon as it exists (Astro puts it on `locals`). */
  attach?(context: Context, state: RequestState): void;
  /** Where the session lives instead of sessionkit's cookie (Astro's bridge mode). */
  source?(context: Context): SessionSource;
  /** Renders the app's own page for a page visit refused with 403 (Astro's `forbiddenPage`). */
  forbidden?(context: Context, state: RequestState): Promise<Response>;
  /** How error messages name rule `index` of `protect`, when the app wrote it elsewhere (Astro: `sessionkit().protect[0]`). */
  ruleName?(index: number): string;
  /** Told of every refused CSRF check (Astro's dev toolbar shows the last one). */
  csrfRefused?(refusal: CsrfRefusal): void;
  /** The app's own names for what CSRF hints mention (Astro: `security.allowedDomains`, ...). */
  csrfNames?: Partial<CsrfHintNames>;
  /** Development server: refusal pages explain themselves (the CSRF reason and its fix). */
  development?: boolean;
}

/** @internal A refused CSRF check, as logged: never the token, the cookie or session data. */
export interface CsrfRefusal {
  readonly failure: CsrfFailure;
  readonly method: string;
  readonly path: string;
  /** What the reason means and how it is usually fixed. */
  readonly summary: string;
  readonly fix: string;
}

/** @internal Everything a request needs, built once. */
export interface PipelineRuntime<Context = unknown> {
  readonly manager: SessionManager<Data>;
  readonly operations: SessionOperations<Data, AnySessionData>;
  readonly guard: Guard<Data, Context>;
  readonly csrf: CsrfProtection | undefined;
  /** How hints about refused CSRF checks name the app's options. */
  readonly csrfNames: CsrfHintNames;
  readonly tokens: RequestTokens | undefined;
  readonly csrfExempt: ((context: Context) => boolean) | undefined;
  readonly access: AccessHooks<Data, Context> | undefined;
  readonly contextStore: ContextStore | undefined;
  readonly reporter: Reporter;
  readonly hooks: AdapterHooks<Context>;
}

const optionKeys = [
  'secrets',
  'store',
  'cookie',
  'expiry',
  'schema',
  'defaults',
  'protect',
  'access',
  'loginPath',
  'apiPrefixes',
  'caseSensitive',
  'base',
  'csrf',
  'csrfExempt',
  'contextStore',
  'onEvent',
  'logger',
  'cryptoEngine',
];
const csrfKeys = ['exempt', 'trustedOrigins', 'headerName', 'fieldName', 'allowSameSite'];

function resolveContextStore(store: ContextStore | undefined, where: string): ContextStore | undefined {
  if (store === undefined) return getContextStore();
  if (typeof store?.run !== 'function' || typeof store.get !== 'function') {
    throw configError(`${where}: "contextStore" must have run(state, fn) and get() functions.`);
  }
  setContextStore(store);
  return store;
}

/**
 * @internal Validates `options` and builds the runtime.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for bad options, naming the option
 */
export function createPipeline<Context>(
  options: SessionkitOptions<Context>,
  hooks: AdapterHooks<Context> = {},
  where = 'createSessionkit()',
): PipelineRuntime<Context> {
  assertOptionsObject(options, optionKeys, where);
  if (options === undefined) throw configError(`${where}: options are required ("secrets" at least).`);
  if (options.csrf !== undefined && options.csrf !== false)
    assertOptionsObject(options.csrf, csrfKeys, `${where} csrf`);
  if (options.csrfExempt !== undefined && typeof options.csrfExempt !== 'function') {
    throw configError(`${where}: "csrfExempt" must be a function of the request context.`);
  }
  const logger = options.logger ?? {};
  const manager = createSessionManager<Data>({
    secrets: options.secrets,
    cookie: options.cookie,
    expiry: options.expiry,
    store: options.store,
    schema: options.schema,
    defaults: options.defaults,
    onEvent: options.onEvent,
    logger,
    cryptoEngine: options.cryptoEngine,
  });
  const names =
    hooks.ruleName === undefined
      ? guardNames(where, 'protect')
      : { where, rule: hooks.ruleName, ruleRef: hooks.ruleName };
  const guard = createNamedGuard<Data, Context>(
    {
      rules: options.protect ?? [],
      loginPath: options.loginPath,
      apiPrefixes: options.apiPrefixes,
      caseSensitive: options.caseSensitive,
      base: options.base,
      access: options.access,
      onError: (error, info) =>
        logger.error?.('[sessionkit] a guard hook threw; the request was denied', {
          pattern: info.pattern,
          stage: info.stage,
          error: error instanceof Error ? error.message : String(error),
        }),
    },
    names,
  );
  const csrfSettings = options.csrf === false ? undefined : (options.csrf ?? {});
  const csrf =
    csrfSettings === undefined
      ? undefined
      : createCsrfProtection({
          keyRing: manager.keyRing,
          exempt: csrfSettings.exempt as CsrfExemptOption | undefined,
          trustedOrigins: csrfSettings.trustedOrigins,
          headerName: csrfSettings.headerName,
          fieldName: csrfSettings.fieldName,
          allowSameSite: csrfSettings.allowSameSite,
          maxAgeSeconds: manager.expiry.idleTimeoutSeconds,
          cryptoEngine: options.cryptoEngine,
          // The pipeline logs refusals itself, with the fix in the app's own option names.
          onEvent: options.onEvent,
        });
  // Bridged sessions are not sessionkit's: there is no session to bind a token to.
  const immediate = csrf === undefined ? undefined : immediateTokenIssuerOf(csrf);
  const tokens: RequestTokens | undefined =
    csrf === undefined || immediate === undefined || hooks.source !== undefined
      ? undefined
      : {
          issuer: {
            issueNow: (sessionId) => immediate.issueNow(sessionId),
            issue: (sessionId) => csrf.issueToken(sessionId),
            issueAnonymousNow: (anonymousId) => immediate.issueAnonymousNow(anonymousId),
            issueAnonymous: (anonymousId) => csrf.issueAnonymousToken(anonymousId),
            get synchronous() {
              return immediate.synchronous;
            },
          },
          anonymous: createAnonymousCsrfCookie(manager.cookie, secureRandomBytes),
        };
  return {
    manager,
    operations: sessionOperationsOf(manager),
    guard,
    csrf,
    csrfNames: {
      trustedOrigins: 'csrf.trustedOrigins',
      allowSameSite: 'csrf.allowSameSite',
      ownOrigin: "the request URL's origin (behind a proxy, pass the public URL: handle(request, next, { url }))",
      token: 'state.csrfToken (getCsrfToken())',
      fieldName: csrf?.fieldName ?? 'csrf_token',
      headerName: csrf?.headerName ?? 'x-csrf-token',
      ...hooks.csrfNames,
    },
    tokens,
    csrfExempt: options.csrfExempt,
    access: options.access,
    contextStore: resolveContextStore(options.contextStore, where),
    reporter: createReporter({ logger, onEvent: options.onEvent }),
    hooks,
  };
}
