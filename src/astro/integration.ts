/**
 * The `sessionkit()` Astro integration (config-time half). Validates the options, compiles the
 * guard once to fail fast on bad rules, writes the options into a virtual module for the server
 * bundle, declares the secret in `astro:env`, registers the middleware (by file URL: they are not
 * package subpaths) and types.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import { configError } from '../core/errors.ts';
import { assertOptionsObject } from '../core/options.ts';
import { createGuard } from '../guard/index.ts';
import type { SessionkitIntegrationOptions } from './config.ts';
import { dataModuleSource } from './config-data.ts';
import {
  anySignedInSession,
  checkLegacyOptions,
  globalProtectRules,
  legacyExpiry,
  legacyOptionKeys,
  type ShadowedExclusion,
  shadowedWarning,
} from './legacy-options.ts';

const virtualId = 'virtual:sessionkit/config';
const resolvedVirtualId = `\0${virtualId}`;
const optionKeys = [
  'loginPath',
  'protect',
  'access',
  'runWithContext',
  'getContextStore',
  'configFile',
  'cookie',
  'expiry',
  'secretEnv',
  'csrf',
  'bridge',
  'apiPrefixes',
  'caseSensitive',
  'devToolbar',
  'forbiddenPage',
  ...legacyOptionKeys,
];
const defaultConfigFiles = ['src/sessionkit.ts', 'src/sessionkit.mts', 'src/sessionkit.js', 'src/sessionkit.mjs'];
const envNamePattern = /^[A-Z_][A-Z0-9_]*$/;

/** Options with defaults filled, as written into the server bundle. */
export interface ResolvedIntegrationOptions extends SessionkitIntegrationOptions {
  loginPath: string;
  secretEnv: string;
  protect: NonNullable<SessionkitIntegrationOptions['protect']>;
}

/** What the config-time check found worth telling the developer (logged by the integration). */
export interface IntegrationWarnings {
  /** `exclude` entries inside a protecting rule: left out, as astro-sessionkit never applied them. */
  readonly shadowed: readonly ShadowedExclusion[];
  /** `exclude` given without `globalProtect: true` (astro-sessionkit ignored it too). */
  readonly excludeIgnored: boolean;
}

/** Keys astro-sessionkit accepted in `astro.config` whose values are functions: they belong in the runtime config file. */
const behaviourKeys = ['access', 'runWithContext', 'getContextStore'] as const;

/** Validates integration options (plain data only) and fills defaults. */
export function resolveIntegrationOptions(
  options: SessionkitIntegrationOptions = {},
  base = '/',
): ResolvedIntegrationOptions {
  const where = 'sessionkit()';
  assertOptionsObject(options, optionKeys, where);
  const configFile = options.configFile ?? 'src/sessionkit.ts';
  dataModuleSource(options as Record<string, unknown>, configFile);
  for (const key of behaviourKeys) {
    if ((options as Record<string, unknown>)[key] !== undefined) {
      throw configError(
        `${where}.${key} belongs in ${configFile}, not in astro.config options.`,
        `Move it there: \`export default defineSessionkit({ ${key}: ... })\`.`,
      );
    }
  }
  // Bridged sessions are Astro's: sessionTtl / touchOnRequest then apply to Astro's session (runtime.ts).
  checkLegacyOptions(options);
  const expiry = options.bridge === undefined ? legacyExpiry(options) : options.expiry;
  const resolved: ResolvedIntegrationOptions = {
    ...options,
    ...(expiry === undefined ? {} : { expiry }),
    loginPath: options.loginPath ?? '/login',
    secretEnv: options.secretEnv ?? 'SESSIONKIT_SECRET',
    protect: options.protect ?? [],
  };
  if (!envNamePattern.test(resolved.secretEnv)) {
    throw configError(`${where}: secretEnv must be an env var name such as SESSIONKIT_SECRET.`);
  }
  if (options.bridge !== undefined && options.bridge !== 'astro-session') {
    throw configError(`${where}: bridge must be "astro-session" when given.`);
  }
  // Compile once now so bad rules fail the dev server / build, not the first request.
  const guard = compileGuard(resolved, base);
  if (options.forbiddenPage !== undefined) {
    const page = options.forbiddenPage;
    const match = typeof page === 'string' && page.startsWith('/') ? guard.match(page) : undefined;
    if (match === undefined || !match.ok || match.required.length > 0) {
      throw configError(
        `${where}: forbiddenPage must be a path such as "/403" that no protect rule covers.`,
        'Everyone who is refused must be able to see it.',
      );
    }
  }
  return resolved;
}

/** The warnings about `options` (see {@link IntegrationWarnings}). */
export function integrationWarnings(options: ResolvedIntegrationOptions): IntegrationWarnings {
  const { shadowed } = globalProtectRules(options, options.protect, anySignedInSession);
  return { shadowed, excludeIgnored: options.globalProtect !== true && (options.exclude?.length ?? 0) > 0 };
}

/** The guard for the integration's own rules (with `globalProtect`'s), as the runtime builds it. */
function compileGuard(options: ResolvedIntegrationOptions, base: string) {
  return createGuard({
    rules: [...options.protect, ...globalProtectRules(options, options.protect, anySignedInSession).rules],
    loginPath: options.loginPath,
    apiPrefixes: options.apiPrefixes,
    caseSensitive: options.caseSensitive,
    base,
  });
}

/** The source of `virtual:sessionkit/config`. */
export function virtualModuleSource(
  options: ResolvedIntegrationOptions,
  configFile: string | undefined,
  astro: { base: string; dev: boolean },
): string {
  const lines = [
    configFile === undefined
      ? 'export const userConfig = {};'
      : `import userConfig from ${JSON.stringify(configFile)};\nexport { userConfig };`,
    `export const options = ${dataModuleSource(options as unknown as Record<string, unknown>, options.configFile ?? 'src/sessionkit.ts')};`,
    `export const astro = ${JSON.stringify(astro)};`,
  ];
  return `${lines.join('\n')}\n`;
}

function findConfigFile(root: URL, configured: string | undefined): string | undefined {
  if (configured !== undefined) {
    const path = fileURLToPath(new URL(configured, root));
    if (!existsSync(path)) throw configError(`sessionkit(): configFile "${configured}" does not exist.`);
    return path;
  }
  for (const candidate of defaultConfigFiles) {
    const path = fileURLToPath(new URL(candidate, root));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The files the integration hands to Astro, next to the `sessionkit/astro` entry in `dist/astro/`. */
export interface IntegrationEntrypoints {
  /** The `pre` middleware (`middleware.ts`). */
  readonly middleware: URL;
  /** The `post` middleware (`middleware-post.ts`). */
  readonly middlewarePost: URL;
  /** The dev toolbar app (`toolbar.ts`). */
  readonly toolbar: URL;
  /** The dev toolbar's endpoint (`inspect.ts`). */
  readonly inspect: URL;
}

/** The dev toolbar's endpoint. */
const inspectPath = '/_sessionkit/inspect';

/**
 * The type of `Astro.locals.sessionkit`, written to `.astro/integrations/sessionkit/locals.d.ts`:
 * its manager is a store manager exactly when the runtime config file sets a store.
 */
export function localsTypes(root: URL, configFile: string | undefined): string {
  const manager =
    configFile === undefined
      ? "import('sessionkit').CookieSessionManager<Record<string, unknown>>"
      : `import('sessionkit/astro/config').SessionkitManagerOf<typeof import(${JSON.stringify(typesSpecifier(root, configFile))}).default>`;
  return `declare namespace App {
  interface Locals {
    /** sessionkit's request state: the session handle, CSRF token, store status and session manager. */
    sessionkit: import('sessionkit/server').RequestSessionState<import('sessionkit').SessionData, ${manager}>;
  }
}
`;
}

/** `configFile` as a module specifier relative to the injected types' folder, without its extension. */
function typesSpecifier(root: URL, configFile: string): string {
  const from = fileURLToPath(new URL('.astro/integrations/sessionkit/', root));
  const specifier = relative(from, configFile)
    .replaceAll('\\', '/')
    .replace(/\.(?:m?ts|m?js)$/, '');
  return specifier.startsWith('.') ? specifier : `./${specifier}`;
}

/**
 * The sessionkit Astro integration, handing Astro the given files. Works with no options
 * (sealed-cookie sessions, CSRF on, no rules) and with astro-sessionkit's options.
 *
 * @example
 * ```js
 * const integration = createIntegration({ loginPath: '/login' }, entrypoints);
 * ```
 */
export function createIntegration(
  options: SessionkitIntegrationOptions,
  entrypoints: IntegrationEntrypoints,
): AstroIntegration {
  return {
    name: 'sessionkit',
    hooks: {
      'astro:config:setup'({
        config,
        command,
        updateConfig,
        addMiddleware,
        addDevToolbarApp,
        addWatchFile,
        injectRoute,
        logger,
      }) {
        const resolved = resolveIntegrationOptions(options, config.base);
        const configFile = findConfigFile(config.root, options.configFile);
        if (configFile === undefined) {
          for (const candidate of defaultConfigFiles) addWatchFile(new URL(candidate, config.root));
        }
        const source = virtualModuleSource(resolved, configFile, { base: config.base, dev: command === 'dev' });
        updateConfig({
          env: {
            schema: {
              [resolved.secretEnv]: { context: 'server', access: 'secret', type: 'string', optional: true },
            },
          },
          vite: {
            ssr: { noExternal: ['sessionkit'] },
            plugins: [
              {
                name: 'sessionkit:config',
                resolveId: (id: string) => (id === virtualId ? resolvedVirtualId : undefined),
                load: (id: string) => (id === resolvedVirtualId ? source : undefined),
              },
            ],
          },
        } as never);
        if (
          command === 'dev' &&
          options.bridge === undefined &&
          configFile === undefined &&
          !process.env[resolved.secretEnv]
        ) {
          logger.warn(
            `${resolved.secretEnv} is not set: this dev server uses a random secret, so sessions end when it restarts.`,
          );
        }
        const warnings = integrationWarnings(resolved);
        for (const entry of warnings.shadowed) logger.warn(shadowedWarning(entry));
        if (warnings.excludeIgnored) {
          logger.warn('exclude has no effect without globalProtect: true (as in astro-sessionkit).');
        }
        if (resolved.debug === true && command === 'build') {
          logger.warn('debug: true logs every session and guard event to the console; turn it off in production.');
        }
        addMiddleware({ order: 'pre', entrypoint: entrypoints.middleware });
        addMiddleware({ order: 'post', entrypoint: entrypoints.middlewarePost });
        if (command === 'dev' && options.devToolbar !== false) {
          addDevToolbarApp({ id: 'sessionkit', name: 'sessionkit', icon: 'lock', entrypoint: entrypoints.toolbar });
          injectRoute({ pattern: inspectPath, entrypoint: entrypoints.inspect, prerender: false });
        }
      },
      'astro:config:done'({ config, injectTypes }) {
        const configFile = findConfigFile(config.root, options.configFile);
        injectTypes({ filename: 'locals.d.ts', content: localsTypes(config.root, configFile) });
      },
      'astro:routes:resolved'({ routes, logger }) {
        const guard = compileGuard(resolveIntegrationOptions(options), '/');
        for (const route of routes) {
          if (!route.isPrerendered || route.origin === 'internal') continue;
          const match = guard.matchRoute(route.pattern);
          if (match.ok && match.required.length > 0) {
            logger.warn(
              `Route ${route.pattern} is prerendered but matches a protected pattern: prerendered pages are served as static files that no guard sees. Add \`export const prerender = false\`.`,
            );
          }
        }
      },
    },
  };
}
