/**
 * The environment for child processes (Astro builds and servers) started by tests, benchmarks and
 * the soak test. Plain TypeScript that Node can load by stripping types, so the `.mjs` benchmarks
 * import it too.
 *
 * @module
 */

/** The parent's environment without the test runner's own variables (Astro changes behaviour under Vitest), and without colour (tests read the output). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', NO_COLOR: '1', ...extra };
  for (const key of Object.keys(env))
    if (key.startsWith('VITEST') || key === 'NODE_ENV' || key === 'TEST' || key === 'FORCE_COLOR') delete env[key];
  return env;
}
