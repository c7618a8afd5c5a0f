/**
 * The package root's default export, for `astro add sessionkit` (which writes
 * `import sessionkit from 'sessionkit'`). It forwards each hook to the real integration, which
 * it imports from `sessionkit/astro` on first use, by a specifier bundlers do not follow: so
 * importing the runtime-agnostic core from the root never reaches config-time code.
 *
 * @module
 */
import type { AstroIntegration } from 'astro';
import type { SessionkitIntegrationOptions } from './config.ts';
import { captureCallSite, forAstro, rememberCallSite } from './error-display.ts';

type Hooks = AstroIntegration['hooks'];
type HookName = 'astro:config:setup' | 'astro:config:done' | 'astro:routes:resolved';
type IntegrationModule = typeof import('./index.ts');

/** Held in a variable so that no bundler pulls the integration into a server bundle. */
const integrationEntry = 'sessionkit/astro';

/**
 * The sessionkit Astro integration (same as `sessionkit/astro`).
 *
 * @example
 * ```js
 * // astro.config.mjs (as written by `astro add sessionkit`)
 * import sessionkit from 'sessionkit';
 * export default defineConfig({ output: 'server', integrations: [sessionkit()] });
 * ```
 */
export default function sessionkit(options: SessionkitIntegrationOptions = {}): AstroIntegration {
  // Errors the options cause point at this call, in the app's astro.config.
  const site = captureCallSite(sessionkit);
  rememberCallSite(options, site);
  let loaded: Promise<Hooks> | undefined;
  const hooks = (): Promise<Hooks> => {
    loaded ??= (import(/* @vite-ignore */ integrationEntry) as Promise<IntegrationModule>).then(
      (module) => module.sessionkit(options).hooks,
    );
    return loaded;
  };
  const forward = <Name extends HookName>(name: Name): NonNullable<Hooks[Name]> => {
    const call = async (parameters: unknown): Promise<void> => {
      const hook = (await hooks())[name] as ((parameters: unknown) => void | Promise<void>) | undefined;
      try {
        await hook?.(parameters);
      } catch (error) {
        throw forAstro(error, site);
      }
    };
    return call as NonNullable<Hooks[Name]>;
  };
  return {
    name: 'sessionkit',
    hooks: {
      'astro:config:setup': forward('astro:config:setup'),
      'astro:config:done': forward('astro:config:done'),
      'astro:routes:resolved': forward('astro:routes:resolved'),
    },
  };
}
