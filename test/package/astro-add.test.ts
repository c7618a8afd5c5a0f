/**
 * `npx astro add sessionkit` as a user runs it, against the packed package served by a registry.
 *
 * A verdaccio (from npm) on a free loopback port, storage in a temp folder and no uplink, holds
 * the packed sessionkit and its one dependency, `cookie` (re-published from npm's cache), so that
 * only this build of sessionkit can be installed. A fresh Astro 7 app, its files written here as
 * `npm create astro -- --template minimal` and `npx astro add node` leave them, installs astro and
 * the node adapter from the npm registry first. Then its `.npmrc` points `registry` at verdaccio:
 * npm can route only scopes to another registry, and `sessionkit` is unscoped; `astro add` itself
 * asks `npm config get registry`, so it honours the project's `.npmrc` (for the package lookup and
 * the install it runs). The app then gets the getting-started pages, the secret from the installed
 * package's own `npx sessionkit secret`, is built, and a visitor signs in and out.
 *
 * Cost: about 25-35 s on this machine, most of it `npm install` of astro from npm's cache.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appName, blocksOf, repoRoot } from '../docs/blocks.ts';
import { Browser, childEnv, type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'sk-astro-add-'));
const appRoot = join(work, 'app');
const installed = (name: string) =>
  (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

/** Runs a command in `cwd` with the test's Node and npm on PATH; returns its output. */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout, stderr } = await run(command, args, {
    cwd,
    env: childEnv({ NO_COLOR: '1', CI: '1' }),
    maxBuffer: 32 * 1024 * 1024,
  });
  return `${stdout}\n${stderr}`;
}

/** verdaccio with no uplink, storage in `work`. */
async function startRegistry(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const config = join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(work, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(work, 'htpasswd')}`,
      '    max_users: 1',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'node_modules/verdaccio/bin/verdaccio'), '--config', config, '--listen', `127.0.0.1:${port}`],
    { cwd: work, env: childEnv(), stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}/`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return { url, process: child };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('verdaccio did not start');
}

let registry: { url: string; process: ChildProcess };
let packedIntegrity = '';
let addOutput = '';
let server: FixtureServer;

beforeAll(async () => {
  registry = await startRegistry();
  // A publisher account, and its token in a .npmrc of its own.
  const account = await fetch(`${registry.url}-/user/org.couchdb.user:publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'publisher', password: 'a-test-only-password' }),
  });
  const { token } = (await account.json()) as { token: string };
  const publishConfig = join(work, 'publish.npmrc');
  writeFileSync(publishConfig, `//${new URL(registry.url).host}/:_authToken=${token}\n`);

  const packed = JSON.parse(
    await sh('npm', ['pack', '--pack-destination', work, '--json', '--ignore-scripts'], repoRoot),
  ) as {
    filename: string;
    integrity: string;
  }[];
  packedIntegrity = packed[0]?.integrity ?? '';
  await sh('npm', ['pack', `cookie@${installed('cookie')}`, '--prefer-offline', '--silent'], work);
  for (const tarball of [packed[0]?.filename as string, `cookie-${installed('cookie')}.tgz`]) {
    await sh(
      'npm',
      ['publish', tarball, '--registry', registry.url, '--userconfig', publishConfig, '--ignore-scripts'],
      work,
    );
  }

  // A fresh Astro 7 app with the node adapter, dependencies from the npm registry.
  mkdirSync(join(appRoot, 'src/pages'), { recursive: true });
  writeFileSync(
    join(appRoot, 'package.json'),
    JSON.stringify({
      name: 'fresh-app',
      type: 'module',
      version: '0.0.1',
      private: true,
      scripts: { dev: 'astro dev', build: 'astro build', preview: 'astro preview', astro: 'astro' },
      dependencies: { astro: installed('astro'), '@astrojs/node': installed('@astrojs/node') },
    }),
  );
  writeFileSync(
    join(appRoot, 'astro.config.mjs'),
    [
      '// @ts-check',
      "import node from '@astrojs/node';",
      "import { defineConfig } from 'astro/config';",
      '',
      '// https://astro.build/config',
      'export default defineConfig({',
      "  output: 'server',",
      "  adapter: node({ mode: 'standalone' }),",
      '});',
      '',
    ].join('\n'),
  );
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appRoot);

  // From here on this project's registry is verdaccio.
  writeFileSync(join(appRoot, '.npmrc'), `registry=${registry.url}\n`);
  addOutput = await sh('npx', ['astro', 'add', 'sessionkit', '--yes'], appRoot);

  // The getting-started pages (the page's own blocks), and a secret from the installed package.
  const doc = 'docs/getting-started.md';
  for (const block of blocksOf(doc)) {
    if (appName(doc, block.section) !== `${appName(doc, '')}--the-app-in-five-minutes`) continue;
    if (block.file === undefined || block.file === 'astro.config.mjs') continue;
    mkdirSync(dirname(join(appRoot, block.file)), { recursive: true });
    writeFileSync(join(appRoot, block.file), `${block.content}\n`);
  }
  const secret = (await sh('npx', ['sessionkit', 'secret'], appRoot)).trim();
  writeFileSync(join(appRoot, '.env'), `SESSIONKIT_SECRET=${secret}\n`);
  await sh('npx', ['astro', 'build'], appRoot);

  const port = await freePort();
  server = await startServerProcess(
    ['--env-file=.env', './dist/server/entry.mjs'],
    appRoot,
    { HOST: '127.0.0.1', PORT: String(port) },
    `http://127.0.0.1:${port}`,
    20_000,
  );
}, 240_000);

afterAll(async () => {
  await server?.stop();
  registry?.process.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('npx astro add sessionkit, from a registry', () => {
  it('installs the packed package from the registry the project names, and its dependency', () => {
    expect(addOutput).toContain('npm i sessionkit@^');
    const manifest = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies.sessionkit).toMatch(/^\^\d+\.\d+\.\d+/);
    const lock = JSON.parse(readFileSync(join(appRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; integrity: string }>;
    };
    // The installed tarball is the one packed here (npm pack's integrity), not anything else.
    expect(lock.packages['node_modules/sessionkit']?.integrity).toBe(packedIntegrity);
    expect(lock.packages['node_modules/cookie']?.version).toBe(installed('cookie'));
  });

  it('adds the integration to astro.config.mjs as `import sessionkit from "sessionkit"`', () => {
    const config = readFileSync(join(appRoot, 'astro.config.mjs'), 'utf8');
    expect(config).toContain("import sessionkit from 'sessionkit';");
    expect(config).toContain('integrations: [sessionkit()]');
  });

  it('builds, and a visitor is sent to sign in, signs in and out', async () => {
    const browser = new Browser(server.url);
    const sent = await browser.fetch('/dashboard');
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
    const form = await (await browser.fetch('/login?returnTo=%2Fdashboard')).text();
    const token = /name="csrf_token" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const post = (path: string, fields: Record<string, string>) =>
      browser.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.base },
        body: new URLSearchParams(fields).toString(),
      });
    const signedIn = await post('/login?returnTo=%2Fdashboard', {
      csrf_token: token,
      email: 'ada@example.com',
      password: 'correct horse battery staple',
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/dashboard');
    const dashboard = await (await browser.fetch('/dashboard')).text();
    expect(dashboard).toContain('<h1>Hello, Ada</h1>');
    const signOutToken = /name="csrf_token" value="([^"]+)"/.exec(dashboard)?.[1] ?? '';
    expect((await post('/logout', { csrf_token: signOutToken })).status).toBe(303);
    expect((await browser.fetch('/dashboard')).status).toBe(303);
  });
});
