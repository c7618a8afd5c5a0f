/**
 * The server-side half of the integration: builds the session manager, guard and CSRF
 * protection once from `virtual:sessionkit/config` (the integration's options plus the user's
 * `src/sessionkit.ts`), on the first request.
 *
 * @module
 */

import { getSecret } from 'astro:env/server';
import { astro, options, userConfig } from 'virtual:sessionkit/config';
import type { APIContext } from 'astro';
import { encodeBase64Url } from '../core/base64url.ts';
import { configError } from '../core/errors.ts';
import type { Logger } from '../core/events.ts';
import { createReporter } from '../core/events.ts';
import {
  createSessionManager,
  type ImmediateSessionOperations,
  immediateOperationsOf,
  type SessionManager,
} from '../core/manager.ts';
import { assertOptionsObject } from '../core/options.ts';
import type { SecretInput } from '../core/secrets.ts';
import type { SessionData } from '../core/session.ts';
import { type CsrfProtection, createCsrfProtection } from '../csrf/protection.ts';
import { createGuard, type Guard, type GuardDecision } from '../guard/index.ts';
import type { AccessHooks } from '../guard/rules.ts';
import { type ContextStore, getContextStore, setContextStore } from '../server/context.ts';
import type { AstroGuardContext, SessionkitOptions, SessionkitRuntimeConfig } from './config.ts';

/** Everything the middleware needs, built once. */
export interface SessionkitRuntime {
  readonly manager: SessionManager<Record<string, unknown>>;
  /** The manager's load and commit without a promise when nothing waits (the middleware's hot path). */
  readonly immediate: ImmediateSessionOperations<Record<string, unknown>, SessionData>;
  readonly guard: Guard<Record<string, unknown>, AstroGuardContext>;
  readonly csrf: CsrfProtection | undefined;
  readonly csrfExempt: ((context: AstroGuardContext) => boolean) | undefined;
  readonly access: AccessHooks<Record<string, unknown>, AstroGuardContext> | undefined;
  readonly contextStore: ContextStore | undefined;
  readonly bridge: 'astro-session' | undefined;
  readonly logger: Logger;
  readonly hasStore: boolean;
  /** True under `astro dev` with the dev toolbar enabled: serves the inspection endpoint. */
  readonly inspector: boolean;
  /** The app's page shown (status 403) to signed-in visitors who lack access, if configured. */
  readonly forbiddenPage: string | undefined;
  /** Paths answered with JSON instead of pages. */
  readonly apiPrefixes: readonly string[];
  /** Reports a guard denial (event + debug log), without session data. */
  emitDenial(decision: Exclude<GuardDecision<never, never>, { action: 'allow' }>, context: APIContext): void;
}

const devSecretKey = Symbol.for('sessionkit.dev-secret');

/**
 * A per-process secret for `astro dev` when none is configured (sessions end on restart; the
 * integration warns about it at startup). Kept on `globalThis` so module reloads keep it.
 */
function devSecret(): string {
  const holder = globalThis as { [devSecretKey]?: string };
  holder[devSecretKey] ??= encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  return holder[devSecretKey];
}

function resolveSecrets(): SecretInput | readonly SecretInput[] {
  if (options.bridge !== undefined) return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  if (userConfig.secrets !== undefined) return userConfig.secrets;
  const fromEnv = getSecret(options.secretEnv);
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return fromEnv
      .split(',')
      .map((secret) => secret.trim())
      .filter((secret) => secret !== '');
  }
  if (astro.dev) return devSecret();
  throw configError(
    `sessionkit: the ${options.secretEnv} environment variable is not set.`,
    `Set ${options.secretEnv} to 32+ random bytes (\`openssl rand -base64 32\`); comma-separate several to rotate, newest first.`,
  );
}

function pickContextStore(config: SessionkitRuntimeConfig, settings: SessionkitOptions): ContextStore | undefined {
  const run = config.runWithContext ?? settings.runWithContext;
  const get = config.getContextStore ?? settings.getContextStore;
  if (run !== undefined && get !== undefined) {
    const store: ContextStore = { run, get };
    setContextStore(store);
    return store;
  }
  return getContextStore();
}

const runtimeConfigKeys = [
  'protect',
  'access',
  'secrets',
  'store',
  'schema',
  'defaults',
  'onEvent',
  'logger',
  'runWithContext',
  'getContextStore',
  'csrfExempt',
];

function build(): SessionkitRuntime {
  assertOptionsObject(userConfig, runtimeConfigKeys, 'src/sessionkit.ts (defineSessionkit)');
  if ((userConfig.runWithContext === undefined) !== (userConfig.getContextStore === undefined)) {
    throw configError('src/sessionkit.ts: give runWithContext and getContextStore together.');
  }
  const logger = userConfig.logger ?? {};
  const access = userConfig.access ?? options.access;
  const manager = createSessionManager<Record<string, unknown>>({
    secrets: resolveSecrets(),
    cookie: options.cookie,
    expiry: options.expiry,
    store: userConfig.store,
    schema: userConfig.schema,
    defaults: userConfig.defaults,
    onEvent: userConfig.onEvent,
    logger,
  });
  const guard = createGuard<Record<string, unknown>, AstroGuardContext>({
    rules: [...options.protect, ...(userConfig.protect ?? [])],
    loginPath: options.loginPath,
    apiPrefixes: options.apiPrefixes,
    caseSensitive: options.caseSensitive,
    base: astro.base,
    access,
    onError: (error, info) =>
      logger.error?.('[sessionkit] a guard hook threw; the request was denied', {
        pattern: info.pattern,
        stage: info.stage,
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  const csrfSettings = options.csrf === false ? undefined : (options.csrf ?? {});
  const csrf =
    csrfSettings === undefined
      ? undefined
      : createCsrfProtection({
          keyRing: manager.keyRing,
          exempt: csrfSettings.exempt,
          trustedOrigins: csrfSettings.trustedOrigins,
          allowSameSite: csrfSettings.allowSameSite,
          headerName: csrfSettings.headerName,
          fieldName: csrfSettings.fieldName,
          maxAgeSeconds: manager.expiry.idleTimeoutSeconds,
          onEvent: userConfig.onEvent,
          logger,
        });
  const reporter = createReporter({ logger, onEvent: userConfig.onEvent });
  return {
    manager,
    immediate: immediateOperationsOf(manager),
    guard,
    apiPrefixes: options.apiPrefixes ?? ['/api/'],
    inspector: astro.dev && options.devToolbar !== false,
    forbiddenPage: options.forbiddenPage,
    emitDenial(decision, context) {
      const sessionId = (context.locals as { sessionkit?: { session: { id: string } } }).sessionkit?.session.id;
      reporter.emit({
        type: 'guard.denied',
        status: decision.status,
        path: context.url.pathname.slice(0, 200),
        pattern: decision.rule?.pattern,
        sessionId,
      });
    },
    csrf,
    csrfExempt: userConfig.csrfExempt,
    access,
    contextStore: pickContextStore(userConfig, options),
    bridge: options.bridge,
    logger,
    hasStore: userConfig.store !== undefined,
  };
}

let built: SessionkitRuntime | Error | undefined;

/** The runtime, built on first use. A configuration error is kept and rethrown on every call. */
export function getRuntime(): SessionkitRuntime {
  if (built === undefined) {
    try {
      built = build();
    } catch (error) {
      built = error instanceof Error ? error : new Error(String(error));
    }
  }
  if (built instanceof Error) throw built;
  return built;
}
