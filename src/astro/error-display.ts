/**
 * sessionkit's errors as Astro prints them. Astro shows an error's `message`, then its `hint`,
 * then a location taken from the first stack frame. A {@link SessionKitError}'s message already
 * ends with its hint, and its first frame is inside sessionkit's own files; so for the errors an
 * app's configuration causes, these helpers print the hint once and point the location at the
 * app's own `sessionkit()` call in `astro.config.mjs`.
 *
 * No `node:` import: the package root's default export (edge-safe) uses {@link captureCallSite}.
 *
 * @module
 */
import { isSessionKitError, SessionKitError } from '../core/errors.ts';

/** Where a function was called from: a file of the app, with line and column (1-based). */
export interface CallSite {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** `at file:///app/astro.config.mjs?t=1:7:5` or `at name (file:///app/x.mjs:7:5)`. */
const framePattern = /^\s*at (?:.*?\()?((?:file:\/\/|\/|[A-Za-z]:[\\/])[^()]*?):(\d+):(\d+)\)?$/;

/** A file URL or path as a path, without a query (Astro loads its config with `?t=...`). */
function filePath(location: string): string {
  if (!location.startsWith('file://')) return location;
  const pathname = decodeURIComponent(new URL(location).pathname);
  return /^\/[A-Za-z]:\//.test(pathname) ? pathname.slice(1) : pathname;
}

/**
 * The place that called `callee`, read from a stack trace (V8, JavaScriptCore), or `undefined`
 * when the runtime gives none.
 *
 * @example
 * ```ts
 * export function sessionkit(options) {
 *   const site = captureCallSite(sessionkit); // the user's astro.config.mjs, line and column
 * }
 * ```
 */
export function captureCallSite(callee: (...args: never[]) => unknown): CallSite | undefined {
  const holder: { stack?: string } = {};
  const capture = (Error as { captureStackTrace?: (target: object, start?: (...args: never[]) => unknown) => void })
    .captureStackTrace;
  if (capture === undefined) return undefined;
  capture(holder, callee);
  const frame = holder.stack?.split('\n').find((line) => /^\s*at /.test(line));
  const match = frame === undefined ? null : framePattern.exec(frame);
  if (match === null) return undefined;
  const [, location, line, column] = match as unknown as [string, string, string, string];
  return { file: filePath(location), line: Number(line), column: Number(column) };
}

const callSitesKey = Symbol.for('sessionkit.call-sites');

/**
 * The call sites of `sessionkit()` calls, by their options object: the package root's default
 * export hands its caller's site to the integration it loads (kept on `globalThis`, so that it
 * survives the two entries being separate module instances).
 */
function callSites(): WeakMap<object, CallSite> {
  const holder = globalThis as { [callSitesKey]?: WeakMap<object, CallSite> };
  holder[callSitesKey] ??= new WeakMap();
  return holder[callSitesKey];
}

/** Records that the `sessionkit()` call given `options` was made at `site`. */
export function rememberCallSite(options: unknown, site: CallSite | undefined): void {
  if (site !== undefined && typeof options === 'object' && options !== null) callSites().set(options, site);
}

/** The site recorded for `options` by {@link rememberCallSite}, if any. */
export function rememberedCallSite(options: unknown): CallSite | undefined {
  return typeof options === 'object' && options !== null ? callSites().get(options) : undefined;
}

const shown = Symbol.for('sessionkit.shown-to-astro');

/**
 * Prepares a sessionkit error for Astro's error printer: the hint leaves the message (Astro prints
 * `hint` on its own line, so it shows once), and, for a configuration error with a known call
 * site, the location and stack point at the app's `sessionkit()` call. Any other value is
 * returned unchanged. Idempotent; a later call with a call site moves the location there.
 */
export function forAstro(error: unknown, site?: CallSite): unknown {
  if (!isSessionKitError(error)) return error;
  const target = error as SessionKitError & { [shown]?: true; loc?: CallSite };
  if (target[shown] !== true && target.hint !== undefined) {
    const suffix = `\nHint: ${target.hint}`;
    if (target.message.endsWith(suffix)) {
      const stack = target.stack;
      const header = `${target.name}: ${target.message}`;
      target.message = target.message.slice(0, -suffix.length);
      if (stack?.startsWith(header)) target.stack = `${target.name}: ${target.message}${stack.slice(header.length)}`;
    }
  }
  target[shown] = true;
  if (site !== undefined && (target.code === 'ERR_CONFIG_INVALID' || target.code === 'ERR_SECRET_WEAK')) {
    target.loc = { file: site.file, line: site.line, column: site.column };
    target.stack = `${target.name}: ${target.message}\n    at ${site.file}:${site.line}:${site.column}`;
  }
  return target;
}

/**
 * How messages name rule `index` of the rules the Astro runtime compiles: those of `astro.config`
 * first (`sessionkit().protect[0]`), then those of the runtime config file
 * (`src/sessionkit.ts protect[0]`).
 *
 * @param dataRules - how many rules `astro.config` gives
 * @param configFile - the runtime config file, relative to the project root
 */
export function astroRuleName(index: number, dataRules: number, configFile: string): string {
  return index < dataRules ? `sessionkit().protect[${index}]` : `${configFile} protect[${index - dataRules}]`;
}

/**
 * The error a `sessionkit/server` helper's "no request context" becomes on a prerendered page:
 * the real cause (the page is rendered at build time, with no visitor) and the fix. Any other
 * value is returned unchanged.
 *
 * @param route - the page's route pattern, e.g. `/dashboard`
 */
export function onPrerenderedPage(error: unknown, route: string): unknown {
  if (!isSessionKitError(error, 'ERR_NO_CONTEXT')) return error;
  return forAstro(
    new SessionKitError(
      'ERR_NO_CONTEXT',
      `The page ${route} is prerendered (rendered once, at build time, with no visitor), so it has no session: sessionkit/server helpers cannot run there.`,
      {
        hint: "Render it on demand: add `export const prerender = false` to the page, or set output: 'server' in astro.config (with an adapter such as @astrojs/node).",
      },
    ),
  );
}
