/**
 * The package root's default export, for `astro add sessionkit` (which writes
 * `import sessionkit from 'sessionkit'`). It forwards each hook to the real integration, loaded
 * on first use, so that importing the runtime-agnostic core from the root never loads the
 * config-time code (file system access, the JavaScript parser).
 *
 * @module
 */
import type { AstroIntegration } from 'astro';
import type { SessionkitOptions } from './config.ts';

type Hooks = AstroIntegration['hooks'];
type HookName = 'astro:config:setup' | 'astro:config:done' | 'astro:routes:resolved';

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
export default function sessionkit(options: SessionkitOptions = {}): AstroIntegration {
  let loaded: Promise<Hooks> | undefined;
  const hooks = (): Promise<Hooks> => {
    loaded ??= import('./integration.ts').then((module) => module.sessionkit(options).hooks);
    return loaded;
  };
  const forward = <Name extends HookName>(name: Name): NonNullable<Hooks[Name]> => {
    const call = async (parameters: unknown): Promise<void> => {
      const hook = (await hooks())[name] as ((parameters: unknown) => void | Promise<void>) | undefined;
      await hook?.(parameters);
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
