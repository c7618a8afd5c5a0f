/**
 * sessionkit on Bun (the `bun` npm package): the test app on `Bun.serve`, importing the built
 * package by name.
 */
import { describeAppOn, repoRoot, runtimeVersion, startApp } from './app-suite.ts';

const bun = `${repoRoot}node_modules/.bin/bun`;
const env = { DO_NOT_TRACK: '1', NO_COLOR: '1' };
const version = runtimeVersion(bun, ['--version'], env);

describeAppOn(`Bun ${version}`, /Bun \d+\.\d+\.\d+/, (configuration) =>
  startApp(bun, ['test/runtimes/bun-server.ts'], env, configuration),
);
