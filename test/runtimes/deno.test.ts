/**
 * sessionkit on Deno (the `deno` npm package): the test app on `Deno.serve`, importing the built
 * package by name. Deno runs with `--no-remote --cached-only` (nothing is downloaded) and only
 * the permissions the app needs: listening on 127.0.0.1 and reading its environment.
 */
import { describeAppOn, repoRoot, runtimeVersion, startApp } from './app-suite.ts';

const deno = `${repoRoot}node_modules/.bin/deno`;
const env = { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' };
const version = runtimeVersion(deno, ['--version'], env).match(/^deno (\S+)/)?.[1] ?? 'unknown';

describeAppOn(`Deno ${version}`, /Deno \d+\.\d+\.\d+/, (configuration) =>
  startApp(
    deno,
    [
      'run',
      '--no-remote',
      '--cached-only',
      '--allow-net=127.0.0.1',
      '--allow-env=PORT,SESSIONKIT_SECRET,SESSIONKIT_CRYPTO_ENGINE,SESSIONKIT_STORE',
      'test/runtimes/deno-server.ts',
    ],
    env,
    configuration,
  ),
);
