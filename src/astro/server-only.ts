/**
 * Keeps sessionkit out of browser bundles. Every entry of the package works on the request and
 * the session, which exist only on the server; imported from a `<script>` or a `client:*`
 * component, it would be bundled and fail in the browser. This Vite plugin fails the build (and
 * shows the error overlay under `astro dev`) instead, naming the file that imports it.
 *
 * @module
 */
import { relative } from 'node:path';
import { configError } from '../core/errors.ts';
import { forAstro } from './error-display.ts';

const packageSpecifier = /^sessionkit(?:\/|$)/;

/** The importer as a project path, without Astro's `?astro&type=script...` query. */
function shownImporter(importer: string | undefined, root: string): string {
  if (importer === undefined) return 'a browser module';
  const path = importer.split('?')[0] as string;
  const inProject = relative(root, path).replaceAll('\\', '/');
  return inProject.startsWith('..') ? path : inProject;
}

/** The environment a Vite hook runs for (Vite 6+), or the older `ssr` flag. */
interface HookContext {
  readonly environment?: { readonly config: { readonly consumer: 'client' | 'server' } };
}

/**
 * The Vite plugin refusing any `sessionkit` import in code built for the browser.
 *
 * @param root - the project root, to name the importing file relative to it
 *
 * @example
 * ```ts
 * updateConfig({ vite: { plugins: [serverOnlyPlugin(fileURLToPath(config.root))] } });
 * ```
 */
export function serverOnlyPlugin(root: string) {
  return {
    name: 'sessionkit:server-only',
    enforce: 'pre' as const,
    resolveId(this: HookContext, id: string, importer: string | undefined, options?: { ssr?: boolean }): undefined {
      if (!packageSpecifier.test(id)) return undefined;
      const browser =
        this.environment === undefined ? options?.ssr !== true : this.environment.config.consumer === 'client';
      if (!browser) return undefined;
      throw forAstro(
        configError(
          `${id} is server-only, but ${shownImporter(importer, root)} imports it in code that runs in the browser (a <script> or a client:* component).`,
          "Read the session in the page's frontmatter, which runs on the server, and hand the browser only what it needs: for example <form data-csrf={Astro.locals.sessionkit.csrfToken}>, or a JSON endpoint the script fetches.",
        ),
      );
    },
  };
}
