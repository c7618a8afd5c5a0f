#!/usr/bin/env node
/**
 * The `sessionkit` command line (`npx sessionkit secret`): the package's `bin`, built on its own
 * into `dist/cli.js`. No runtime entry imports it.
 *
 * @module
 */
import { runCli } from './run.ts';

process.exitCode = runCli(
  process.argv.slice(2),
  (text) => process.stdout.write(text),
  (text) => process.stderr.write(text),
);
