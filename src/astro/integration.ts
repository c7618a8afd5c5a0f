/**
 * The `sessionkit()` Astro integration (config-time half). Validates the options, compiles the
 * guard once to fail fast on bad rules, writes the options into a virtual module for the server
 * bundle, declares the secret in `astro:env`, registers the middleware (by file URL: they are not
 * package subpaths) and types.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration, AstroIntegrationLogger } from 'astro';
import { configError } from '../core/errors.ts';
import { assertOptionsObject } from '../core/options.ts';
import { createNamedGuard } from '../guard/guard.ts';
import type { SessionkitIntegrationOptions } from './config.ts';
import { dataModuleSource } from './config-data.ts';
import { optionText } from './config-source.ts';
import { envFileDefines } from './env-files.ts';
import { astroRuleName, type CallSite, forAstro } from './error-display.ts';
import {
  anySignedInSession,
  checkLegacyOptions,
  globalProtectRules,
  legacyExpiry,
  legacyOptionKeys,
  type ShadowedExclusion,
  shadowedWarning,
} from './legacy-options.ts';
import { type OptionHintContext, unknownOptionError } from './option-hints.ts';
import { serverOnlyPlugin } from './server-only.ts';

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
  'cryptoEngine',
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

/**
 * Validates integration options (plain data only) and fills defaults.
 *
 * @param hints - what an error about an option that belongs elsewhere can say about the project
 */
export function resolveIntegrationOptions(
  options: SessionkitIntegrationOptions = {},
  base = '/',
  hints: Partial<OptionHintContext> = {},
): ResolvedIntegrationOptions {
  const where = 'sessionkit()';
  const configFile = options.configFile ?? 'src/sessionkit.ts';
  if (typeof options === 'object' && options !== null) {
    const context: OptionHintContext = { configFile, configFileExists: false, ...hints };
    for (const key of Object.keys(options)) {
      if (optionKeys.includes(key)) continue;
      const error = unknownOptionError(key, options as Record<string, unknown>, context);
      if (error !== undefined) throw error;
    }
  }
  assertOptionsObject(options, optionKeys, where);
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
  if (options.cryptoEngine !== undefined && !['auto', 'node', 'webcrypto'].includes(options.cryptoEngine)) {
    throw configError(`${where}: cryptoEngine must be "auto", "node" or "webcrypto".`);
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
  const name = (index: number) => astroRuleName(index, options.protect.length, '');
  const names = { where: 'sessionkit()', rule: name, ruleRef: name };
  return createNamedGuard(
    {
      rules: [...options.protect, ...globalProtectRules(options, options.protect, anySignedInSession).rules],
      loginPath: options.loginPath,
      apiPrefixes: options.apiPrefixes,
      caseSensitive: options.caseSensitive,
      base,
    },
    names,
  );
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

/** The options as written in the config file that called `sessionkit()`, for error hints. */
function writtenOption(site: CallSite | undefined, root: URL, configFile: string) {
  if (site === undefined) return undefined;
  let source: string | undefined;
  const moveTo = dirname(fileURLToPath(new URL(configFile, root)));
  const rewrite = (specifier: string) => {
    const target = relative(moveTo, resolve(dirname(site.file), specifier)).replaceAll('\\', '/');
    return target.startsWith('.') ? target : `./${target}`;
  };
  return (key: string) => {
    try {
      source ??= readFileSync(site.file, 'utf8');
    } catch {
      return undefined;
    }
    return optionText(source, site.line, site.column, key, rewrite);
  };
}

/** A route the guard protects but Astro prerenders: served as a static file no rule sees. */
function prerenderedWarning(routes: readonly { pattern: string; entrypoint: string }[], hasAdapter: boolean): string {
  const list = routes.map((route) => `${route.pattern} (${route.entrypoint})`).join(', ');
  const fix = hasAdapter
    ? "add `export const prerender = false` to each page, or set output: 'server' in astro.config"
    : "this project has no adapter, so every page is prerendered: add one (`npx astro add node`), then set output: 'server' in astro.config (or add `export const prerender = false` to each of these pages)";
  return `${routes.length === 1 ? 'A protected route is' : 'Protected routes are'} prerendered: ${list}. Prerendered pages are HTML written at build time and served as files: no rule protects them and no session reaches them. Fix: ${fix}.`;
}

/** True when `.env` files Astro reads for `mode` set `name` (as Vite's loadEnv reads them). */
function setInEnvFiles(root: URL, envDir: unknown, mode: string, name: string): boolean {
  const dir = typeof envDir === 'string' ? resolve(fileURLToPath(root), envDir) : fileURLToPath(root);
  const value = envFileDefines(dir, mode)[name];
  return value !== undefined && value.trim() !== '';
}

/**
 * The sessionkit Astro integration, handing Astro the given files. Works with no options
 * (sealed-cookie sessions, CSRF on, no rules) and with astro-sessionkit's options.
 *
 * @param site - where the app called `sessionkit()`: errors its options cause point there
 *
 * @example
 * ```js
 * const integration = createIntegration({ loginPath: '/login' }, entrypoints);
 * ```
 */
export function createIntegration(
  options: SessionkitIntegrationOptions,
  entrypoints: IntegrationEntrypoints,
  site?: CallSite,
): AstroIntegration {
  // Astro resolves routes more than once per build: each warning is printed once.
  const warned = new Set<string>();
  let hasAdapter = false;
  const warnOnce = (logger: AstroIntegrationLogger, message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    logger.warn(message);
  };
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
        hasAdapter = config.adapter !== undefined;
        try {
          const runtimeConfig = options.configFile ?? 'src/sessionkit.ts';
          const resolved = resolveIntegrationOptions(options, config.base, {
            configFileExists: existsSync(fileURLToPath(new URL(runtimeConfig, config.root))),
            optionText: writtenOption(site, config.root, runtimeConfig),
          });
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
                serverOnlyPlugin(fileURLToPath(config.root)),
              ],
            },
          } as never);
          if (
            command === 'dev' &&
            options.bridge === undefined &&
            configFile === undefined &&
            !process.env[resolved.secretEnv] &&
            !setInEnvFiles(config.root, config.vite?.envDir, 'development', resolved.secretEnv)
          ) {
            logger.warn(
              `${resolved.secretEnv} is not set: this dev server uses a random secret, so sessions end when it restarts. Set it in .env (\`npx sessionkit secret\` prints one).`,
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
        } catch (error) {
          throw forAstro(error, site);
        }
      },
      'astro:config:done'({ config, injectTypes }) {
        try {
          const configFile = findConfigFile(config.root, options.configFile);
          injectTypes({ filename: 'locals.d.ts', content: localsTypes(config.root, configFile) });
        } catch (error) {
          throw forAstro(error, site);
        }
      },
      'astro:routes:resolved'({ routes, logger }) {
        const guard = compileGuard(resolveIntegrationOptions(options), '/');
        const exposed = routes.filter((route) => {
          if (!route.isPrerendered || route.origin === 'internal') return false;
          const match = guard.matchRoute(route.pattern);
          return match.ok && match.required.length > 0;
        });
        if (exposed.length > 0) warnOnce(logger, prerenderedWarning(exposed, hasAdapter));
      },
    },
  };
}
