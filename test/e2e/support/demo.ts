/**
 * The demo app (examples/demo) for end-to-end tests: one production build per test run (made by
 * the global setup into .tmp/, so a developer's `npm start` build is left alone), and servers on
 * free loopback ports, each with its own data folder and secret.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { childEnv, type FixtureServer, freePort, startServerProcess } from '../../support/astro.ts';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const demoRoot = join(repoRoot, 'examples', 'demo');
/** Where the global setup builds the demo (inside the repository so its imports resolve). */
export const demoBuildDir = join(repoRoot, '.tmp', 'e2e-demo');
/**
 * Where the browser tests save their screenshots: docs/screenshots/ with
 * `SESSIONKIT_UPDATE_SCREENSHOTS=1` (`npm run screenshots`), else a scratch folder, so a test run
 * does not rewrite the committed images.
 */
export const screenshotsDir =
  process.env.SESSIONKIT_UPDATE_SCREENSHOTS === '1'
    ? join(repoRoot, 'docs', 'screenshots')
    : join(repoRoot, 'test', '.tmp', 'screenshots');
const astroBin = join(repoRoot, 'node_modules', 'astro', 'bin', 'astro.mjs');

/** The demo accounts (examples/demo/demo-accounts.json). */
export { default as demoAccounts } from '../../../examples/demo/demo-accounts.json' with { type: 'json' };

/** Links `sessionkit` into examples/node_modules, as `npm start` does. */
export function linkPackageIntoExamples(): void {
  if (!existsSync(join(repoRoot, 'dist', 'index.js'))) throw new Error('Build the library first: npm run build');
  const modules = join(repoRoot, 'examples', 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = join(modules, 'sessionkit');
  if (!existsSync(link)) symlinkSync('../..', link, 'dir');
}

/** Astro's output from the last {@link buildDemo}. */
export const demoBuildLog = `${demoBuildDir}.log`;

/** Builds the demo into {@link demoBuildDir}, its output into {@link demoBuildLog}; throws with the output on failure. */
export function buildDemo(): void {
  linkPackageIntoExamples();
  rmSync(demoBuildDir, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [astroBin, 'build', '--root', demoRoot, '--outDir', demoBuildDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: childEnv(),
  });
  if (result.status !== 0) throw new Error(`astro build examples/demo failed:\n${result.stdout}\n${result.stderr}`);
  // Plain text: CI may force colours, and escape codes split the words a test looks for.
  writeFileSync(demoBuildLog, stripVTControlCharacters(`${result.stdout}\n${result.stderr}`));
}

/** A running demo server. */
export interface DemoServer {
  readonly url: string;
  readonly dataDir: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Extra environment (e.g. SESSIONKIT_DEMO_STORE=redis). */
  env?: Record<string, string>;
  /** Share a data folder and secret with another server; default: a new temp folder and secret. */
  dataDir?: string;
  secret?: string;
}

/** A fresh random secret, as `npm start` makes on first run. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A temp data folder (removed by the caller). */
export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'sessionkit-demo-e2e-'));
}

/** Serves the built demo on a free port of 127.0.0.1. */
export async function startDemo(options: DemoOptions = {}): Promise<DemoServer> {
  const entry = join(demoBuildDir, 'server', 'entry.mjs');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: the e2e global setup builds it`);
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? newDataDir();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    HOST: '127.0.0.1',
    PORT: String(port),
    DEMO_DATA_DIR: dataDir,
    SESSIONKIT_SECRET: options.secret ?? newSecret(),
    ...options.env,
  };
  const removeOwnData = () => {
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let server: FixtureServer;
  try {
    server = await startServerProcess([entry], demoRoot, env, url, 30_000);
  } catch (error) {
    removeOwnData();
    throw error;
  }
  return {
    url,
    dataDir,
    output: server.output,
    async stop() {
      await server.stop();
      removeOwnData();
    },
  };
}
