/**
 * The variables an app's `.env` files define, read the way Vite's `loadEnv` (and so Astro) reads
 * them: `.env`, `.env.local`, `.env.<mode>`, `.env.<mode>.local`, each later file winning. Used at
 * config time to tell whether the session secret is set before warning that it is not.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * The variables the `.env` files in `dir` define for `mode` (`development` under `astro dev`).
 *
 * @example
 * ```ts
 * envFileDefines('/app', 'development').SESSIONKIT_SECRET; // from /app/.env, if set there
 * ```
 */
export function envFileDefines(dir: string, mode: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of ['.env', '.env.local', `.env.${mode}`, `.env.${mode}.local`]) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    Object.assign(values, parseEnv(text));
  }
  return values;
}
