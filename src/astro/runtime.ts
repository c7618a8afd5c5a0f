/**
 * The server-side half of the integration: the pipeline, built once when the server loads this
 * module from `virtual:sessionkit/config` (the integration's data options plus the app's
 * `src/sessionkit.ts`), with Astro's hooks: `locals.sessionkit`, the forbidden page, Astro's own
 * session in bridge mode, and in `astro dev` the explained CSRF refusals the toolbar shows.
 *
 * A configuration problem (a missing or weak `SESSIONKIT_SECRET` above all) is reported once,
 * when the module is loaded, naming the environment variable and the fix; requests then answer a
 * plain 500 instead of each throwing with a stack trace. Astro loads middleware lazily: the Node
 * adapter (standalone and middleware mode) imports it on the first request, `astro dev` when its
 * first request needs it, so "once at start" is "once, when the server loads sessionkit".
 *
 * @module
 */
import { getSecret } from 'astro:env/server';
import { astro, options, userConfig } from 'virtual:sessionkit/config';
import type { APIContext } from 'astro';
import { encodeBase64Url } from '../core/base64url.ts';
import { configError, isSessionKitError } from '../core/errors.ts';
import type { EventListener, LogFields, Logger } from '../core/events.ts';
import type { ExpiryOptions } from '../core/expiry.ts';
import { assertOptionsObject } from '../core/options.ts';
import { checkSecrets, type SecretInput } from '../core/secrets.ts';
import type { CsrfFailureReason } from '../csrf/protection.ts';
import { isAuthenticated } from '../guard/access.ts';
import type { GuardRule } from '../guard/rules.ts';
import type { ContextStore } from '../pipeline/context-store.ts';
import { type AdapterHooks, type CsrfRefusal, createPipeline, type PipelineRuntime } from '../pipeline/options.ts';
import { pendingSourceKey, type SessionSource } from '../pipeline/source.ts';
import { consoleLogger } from './console-logger.ts';
import { astroRuleName } from './error-display.ts';
import { anySignedInSession, globalProtectRules } from './legacy-options.ts';

/** The pipeline of this app, with Astro's context as the rules' context. */
export type AstroPipeline = PipelineRuntime<APIContext>;

/** Where astro-sessionkit kept the session in Astro's own session. */
const bridgeKey = '__session__';
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

/**
 * The secrets, checked where they came from, so a problem names the environment variable (or the
 * option) and the fix.
 *
 * @throws `ERR_CONFIG_INVALID` / `ERR_SECRET_WEAK` for a missing or weak secret
 */
function resolveSecrets(): SecretInput | readonly SecretInput[] {
  // Bridged sessions are Astro's: the key ring only backs the unused session handle.
  if (options.bridge !== undefined) return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  if (userConfig.secrets !== undefined) {
    return checkedSecrets(userConfig.secrets, 'the "secrets" option of src/sessionkit.ts');
  }
  const fromEnv = getSecret(options.secretEnv);
  if ((fromEnv === undefined || fromEnv.trim() === '') && astro.dev) return devSecret();
  const secrets = (fromEnv ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '');
  return checkedSecrets(secrets, options.secretEnv);
}

function checkedSecrets(input: SecretInput | readonly SecretInput[], source: string): readonly SecretInput[] {
  const checked = checkSecrets(input, { source });
  if (!checked.ok) throw checked.error;
  return checked.secrets;
}

/** Astro's `set()` options for a write: the change's own ttl, else `sessionTtl`, else Astro's default. */
function ttlOption(ttlSeconds: number | undefined): { ttl: number } | undefined {
  const ttl = ttlSeconds ?? options.sessionTtl;
  return ttl === undefined ? undefined : { ttl };
}

/**
 * Astro's own session, read and written as astro-sessionkit's `__session__` value. With
 * `touchOnRequest`, a signed-in value is written back on every request, so Astro's storage
 * extends its `ttl` (astro-sessionkit 0.1.33).
 */
function astroSession(context: APIContext): SessionSource {
  return {
    async read() {
      const data = (await context.session?.get(bridgeKey)) as Record<string, unknown> | undefined;
      if (options.touchOnRequest === true && isAuthenticated(data)) {
        context.session?.set(bridgeKey, data, ttlOption(undefined));
      }
      return data;
    },
    async write(change) {
      const session = context.session;
      if (session === undefined) return;
      if (change.action === 'destroy') {
        session.destroy();
        return;
      }
      // After destroy(), Astro's set() starts a new session: what a sign-out then sign-in needs.
      if (change.replace) session.destroy();
      session.set(bridgeKey, change.data, ttlOption(change.ttlSeconds));
      if (change.regenerate) await session.regenerate();
    },
  };
}

/**
 * Bridge mode: leaves Astro's session on `locals` for `sessionkit/server` helpers called by the
 * app's own middleware, which runs before sessionkit's (astro-sessionkit's "Set Up Your Session"
 * step calls `setSession(data, context)` there).
 */
export function offerPendingSource(context: APIContext): void {
  (context.locals as { [pendingSourceKey]?: SessionSource })[pendingSourceKey] = astroSession(context);
}

/** The app's forbidden page, rendered through a rewrite with status 403. */
async function renderForbiddenPage(context: APIContext, page: string): Promise<Response> {
  const rendered = await context.rewrite(page);
  const headers = new Headers(rendered.headers);
  headers.set('cache-control', 'no-store');
  return new Response(rendered.body, { status: 403, headers });
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

function contextStoreOf(): ContextStore | undefined {
  const run = userConfig.runWithContext;
  const get = userConfig.getContextStore;
  return run !== undefined && get !== undefined ? { run, get } : undefined;
}

/** Bridged sessions are Astro's, with Astro's expiry: the manager's only bounds a `ttl`, as a cookie's lifetime is bounded. */
const bridgeExpiry: ExpiryOptions = { absoluteTimeoutSeconds: 400 * 24 * 3600, idleTimeoutSeconds: 400 * 24 * 3600 };

/**
 * Where sessionkit reports: the app's logger, else warnings and errors on the console (see
 * `console-logger.ts`); with `debug: true` (astro-sessionkit), the console at every level, every
 * audit event included.
 */
function reportingOf(): { logger: Logger; onEvent: EventListener | undefined } {
  if (options.debug !== true) return { logger: userConfig.logger ?? consoleLogger, onEvent: userConfig.onEvent };
  const logger = userConfig.logger ?? console;
  const listener = userConfig.onEvent;
  return {
    logger,
    onEvent(event) {
      logger.debug?.(`[sessionkit] ${event.type}`, event as unknown as LogFields);
      listener?.(event);
    },
  };
}

const reporting = reportingOf();
const logger = reporting.logger;

/** A refused CSRF check as the dev toolbar shows it. */
export interface LastCsrfRefusal {
  readonly reason: CsrfFailureReason;
  readonly method: string;
  readonly path: string;
  readonly summary: string;
  readonly fix: string;
  /** When it happened (ms since the epoch). */
  readonly at: number;
}

const lastRefusalKey = Symbol.for('sessionkit.last-csrf-refusal');
/** Kept on `globalThis`: the dev server may load the middleware and the toolbar's route as separate module instances. */
const refusals = globalThis as { [lastRefusalKey]?: LastCsrfRefusal };

/** The last refused CSRF check of this dev server (`undefined` in production, where none is kept). */
export function lastCsrfRefusal(): LastCsrfRefusal | undefined {
  return refusals[lastRefusalKey];
}

function rememberRefusal(refusal: CsrfRefusal): void {
  const { failure, method, path, summary, fix } = refusal;
  refusals[lastRefusalKey] = { reason: failure.reason, method, path, summary, fix, at: Date.now() };
}

function build(): AstroPipeline {
  const configFile = options.configFile ?? 'src/sessionkit.ts';
  assertOptionsObject(userConfig, runtimeConfigKeys, `${configFile} (defineSessionkit)`);
  if ((userConfig.runWithContext === undefined) !== (userConfig.getContextStore === undefined)) {
    throw configError(`${configFile}: give runWithContext and getContextStore together.`);
  }
  const forbiddenPage = options.forbiddenPage;
  const hooks: AdapterHooks<APIContext> = {
    attach(context, state) {
      (context.locals as { sessionkit?: unknown }).sessionkit = state;
    },
    source: options.bridge === 'astro-session' ? astroSession : undefined,
    forbidden: forbiddenPage === undefined ? undefined : (context) => renderForbiddenPage(context, forbiddenPage),
    ruleName: (index) => astroRuleName(index, options.protect.length, configFile),
    csrfNames: {
      trustedOrigins: 'sessionkit({ csrf: { trustedOrigins } }) in astro.config.mjs',
      allowSameSite: 'sessionkit({ csrf: { allowSameSite: true } })',
      ownOrigin:
        "Astro's security.allowedDomains (astro.config.mjs), which decides the origin Astro gives the request,",
      token: 'Astro.locals.sessionkit.csrfToken',
    },
    development: astro.dev,
    csrfRefused: astro.dev ? rememberRefusal : undefined,
  };
  const rules = [...options.protect, ...(userConfig.protect ?? [])] as GuardRule<Record<string, unknown>, APIContext>[];
  // astro-sessionkit's globalProtect / exclude, now that every rule (src/sessionkit.ts's too) is known.
  rules.push(...globalProtectRules(options, rules, anySignedInSession).rules);
  return createPipeline<APIContext>(
    {
      secrets: resolveSecrets(),
      cookie: options.cookie,
      expiry: options.bridge === undefined ? options.expiry : bridgeExpiry,
      store: userConfig.store,
      schema: userConfig.schema,
      defaults: userConfig.defaults,
      protect: rules,
      access: userConfig.access,
      loginPath: options.loginPath,
      apiPrefixes: options.apiPrefixes,
      caseSensitive: options.caseSensitive,
      base: astro.base,
      csrf: options.csrf,
      csrfExempt: userConfig.csrfExempt,
      contextStore: contextStoreOf(),
      onEvent: reporting.onEvent,
      logger,
      cryptoEngine: options.cryptoEngine,
    },
    hooks,
    'sessionkit',
  );
}

/** Builds the pipeline, or reports why it cannot be built, once, and keeps the error. */
function buildOrReport(): AstroPipeline | Error {
  try {
    return build();
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const consequence = 'Every request answers 500 until this is fixed and the server restarted.';
    try {
      if (isSessionKitError(error)) {
        // A configuration error says everything in its message and hint: no stack trace.
        const problem =
          error.hint === undefined
            ? error.message
            : `${error.message.replace(`\nHint: ${error.hint}`, '')} ${error.hint}`;
        logger.error?.(`[sessionkit] ${problem} ${consequence}`);
      } else {
        logger.error?.(`[sessionkit] could not start: ${error.stack ?? error.message} ${consequence}`);
      }
    } catch {
      // A broken logger must not stop the report from being kept.
    }
    return error;
  }
}

/** The pipeline, or the configuration error that stopped it (reported once, when this module loaded). */
export const pipelineOrError: AstroPipeline | Error = buildOrReport();

/**
 * The answer to every request while the configuration is broken: a plain 500, without the
 * details in production; in `astro dev` it shows the problem and its fix.
 */
export function misconfiguredResponse(error: Error): Response {
  const body = astro.dev ? `sessionkit is not configured correctly:\n\n${error.message}\n` : 'Internal Server Error\n';
  return new Response(body, {
    status: 500,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * The pipeline, for code that runs inside a request the middleware let through (the dev
 * toolbar's route).
 *
 * @throws the configuration error, when there is one
 */
export function getPipeline(): AstroPipeline {
  if (pipelineOrError instanceof Error) throw pipelineOrError;
  return pipelineOrError;
}

/** True in bridge mode: the app's own middleware fills Astro's session, so sessionkit runs after it (`post`). */
export const bridged = options.bridge !== undefined;
