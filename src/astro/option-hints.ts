/**
 * What to tell someone who gives `sessionkit()` in `astro.config` an option it does not take, in
 * one table: options of the runtime config file (`store`, `onEvent`, ...), which get the code to
 * move there, and astro-sessionkit 0.1.33's options, which get their sessionkit spelling. A name
 * the integration accepts never reaches this table, so an option that later becomes valid simply
 * stops getting a hint.
 *
 * Runs in the Astro config process only.
 *
 * @module
 */
import { configError, type SessionKitError } from '../core/errors.ts';
import type { OptionText } from './config-source.ts';

/** What the app's project looks like, for the fix to name the right file. */
export interface OptionHintContext {
  /** The runtime config file, relative to the project root (`src/sessionkit.ts` by default). */
  readonly configFile: string;
  /** Whether that file exists (the fix then adds to it instead of creating it). */
  readonly configFileExists: boolean;
  /** The option as written in `astro.config`, when it could be read. */
  readonly optionText?: (key: string) => OptionText | undefined;
}

/** Why each option of `src/sessionkit.ts` cannot be given in `astro.config`. */
const runtimeOnlyReasons: Readonly<Record<string, string>> = {
  store:
    'a store holds a live client (a database handle or connection), which astro.config options cannot carry into the server',
  schema: 'a schema is code (its validation functions), which astro.config options cannot carry into the server',
  defaults: 'it is read with the schema it must satisfy, from the runtime config file',
  onEvent: 'it is a function, and functions in astro.config options do not reach the server',
  logger: 'a logger is an object of functions, which astro.config options cannot carry into the server',
  csrfExempt: 'it is a function, and functions in astro.config options do not reach the server',
};

/** The key of `src/sessionkit.ts` an `astro.config` option name stands for. */
const secretKeys = new Set(['secret', 'secrets']);

/**
 * astro-sessionkit 0.1.33 options under another name here: the sessionkit way to say the same,
 * given the value the user passed and the options around it.
 */
const astroSessionkitHints: Readonly<Record<string, (value: unknown, options: Record<string, unknown>) => string>> = {
  touchSessionKey: () =>
    "Remove it: sessionkit keeps the session in its own cookie. To keep reading astro-sessionkit's __session__ from Astro's session, set bridge: 'astro-session'.",
  setContextStore: () =>
    'Remove it: give runWithContext and getContextStore together in the runtime config file (defineSessionkit).',
};

/** The `src/sessionkit.ts` a moved option goes into, as a snippet. */
function runtimeConfigSnippet(context: OptionHintContext, key: string, value: unknown): string {
  const written = context.optionText?.(key);
  const property =
    written?.property ??
    `${key}: ${typeof value === 'function' ? String(value) : '/* the value you gave in astro.config */'}`;
  const lines = [
    `// ${context.configFile}`,
    "import { defineSessionkit } from 'sessionkit/astro/config';",
    ...(written?.imports ?? []),
    ...(written !== undefined && written.localNames.length > 0
      ? [`// and move ${written.localNames.join(', ')} from astro.config too`]
      : []),
    '',
    'export default defineSessionkit({',
    `  ${property.replaceAll('\n', '\n  ')},`,
    '});',
  ];
  return lines.join('\n');
}

/**
 * The error for an option name the integration does not accept, when the table knows it.
 *
 * @param key - the option name, not one of the integration's options
 * @returns `undefined` for a name the table does not know (a typo: the caller's did-you-mean applies)
 */
export function unknownOptionError(
  key: string,
  options: Record<string, unknown>,
  context: OptionHintContext,
): SessionKitError | undefined {
  const where = `sessionkit().${key}`;
  const file = context.configFile;
  if (secretKeys.has(key)) {
    return configError(
      `${where}: secrets do not belong in astro.config, which is committed with the code and read at build time.`,
      `Remove it and set the SESSIONKIT_SECRET environment variable to 32+ random bytes (\`npx sessionkit secret\` prints one; for astro dev, put it in .env). To read secrets from elsewhere, such as a secret manager, return them from ${file}: export default defineSessionkit({ secrets: ... }).`,
    );
  }
  const reason = runtimeOnlyReasons[key];
  if (reason !== undefined) {
    const action = context.configFileExists
      ? `Move it into the defineSessionkit({ ... }) of ${file}`
      : `Move it into a new file, ${file}`;
    return configError(
      `${where} belongs in ${file}, not in astro.config: ${reason}.`,
      `${action}, and remove it from astro.config:\n\n${runtimeConfigSnippet(context, key, options[key])}`,
    );
  }
  const hint = astroSessionkitHints[key];
  if (hint !== undefined) {
    return configError(
      `${where} is an astro-sessionkit option; sessionkit does not take it.`,
      `${hint(options[key], options)}\n\nSee docs/migration/astro-sessionkit.md in the sessionkit package.`,
    );
  }
  return undefined;
}
