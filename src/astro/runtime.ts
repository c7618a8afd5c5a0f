/**
 * The server-side half of the integration: the pipeline, built once on the first request from
 * `virtual:sessionkit/config` (the integration's data options plus the app's `src/sessionkit.ts`),
 * with Astro's hooks: `locals.sessionkit`, the forbidden page, and Astro's own session in bridge mode.
 *
 * @module
 */
import { getSecret } from 'astro:env/server';
import { astro, options, userConfig } from 'virtual:sessionkit/config';
import type { APIContext } from 'astro';
import { encodeBase64Url } from '../core/base64url.ts';
import { configError } from '../core/errors.ts';
import type { EventListener, LogFields, Logger } from '../core/events.ts';
import type { ExpiryOptions } from '../core/expiry.ts';
import { assertOptionsObject } from '../core/options.ts';
import type { SecretInput } from '../core/secrets.ts';
import { isAuthenticated } from '../guard/access.ts';
import type { GuardRule } from '../guard/rules.ts';
import type { ContextStore } from '../pipeline/context-store.ts';
import { type AdapterHooks, createPipeline, type PipelineRuntime } from '../pipeline/options.ts';
import { pendingSourceKey, type SessionSource } from '../pipeline/source.ts';
import { astroRuleName, forAstro } from './error-display.ts';
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

function resolveSecrets(): SecretInput | readonly SecretInput[] {
  // Bridged sessions are Astro's: the key ring only backs the unused session handle.
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

/** `debug: true` (astro-sessionkit): the console as the logger, and every audit event logged at debug level. */
function debugReporting(): { logger: Logger | undefined; onEvent: EventListener | undefined } {
  if (options.debug !== true) return { logger: userConfig.logger, onEvent: userConfig.onEvent };
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
  };
  const rules = [...options.protect, ...(userConfig.protect ?? [])] as GuardRule<Record<string, unknown>, APIContext>[];
  // astro-sessionkit's globalProtect / exclude, now that every rule (src/sessionkit.ts's too) is known.
  rules.push(...globalProtectRules(options, rules, anySignedInSession).rules);
  const { logger, onEvent } = debugReporting();
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
      onEvent,
      logger,
    },
    hooks,
    'sessionkit',
  );
}

let built: AstroPipeline | Error | undefined;

/** The pipeline, built on first use. A configuration error is kept and rethrown on every call. */
export function getPipeline(): AstroPipeline {
  if (built === undefined) {
    try {
      built = build();
    } catch (error) {
      built = error instanceof Error ? (forAstro(error) as Error) : new Error(String(error));
    }
  }
  if (built instanceof Error) throw built;
  return built;
}

/** True in bridge mode: the app's own middleware fills Astro's session, so sessionkit runs after it (`post`). */
export const bridged = options.bridge !== undefined;
