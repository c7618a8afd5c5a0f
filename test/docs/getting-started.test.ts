/**
 * docs/getting-started.md's app, built from the page's own blocks: the files of "The app in five
 * minutes" written as they are shown, the secret made by the page's own shell command, then run
 * the way the page says (`astro dev`; `astro build` and `node --env-file=.env ./dist/server/entry.mjs`)
 * and used as a reader would: sent to sign in, signed in, welcomed once, signed out. The
 * request/response lines the page quotes are checked against both servers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, childEnv, type FixtureServer, freePort, startServerProcess } from '../support/astro.ts';
import { appName, blocksOf, repoRoot } from './blocks.ts';

const doc = 'docs/getting-started.md';
const app = 'getting-started';
const appRoot = join(repoRoot, '.tmp/docs-app', app);
const astroBin = join(repoRoot, 'node_modules/astro/bin/astro.mjs');
const blocks = blocksOf(doc);
const appSection = blocks.filter(
  (block) => appName(doc, block.section) === `${appName(doc, '')}--the-app-in-five-minutes`,
);
const files = appSection.filter((block) => block.file !== undefined);
const secretCommand = blocks.find((block) => block.treatment.kind === 'run' && block.treatment.app === app);
const responses = blocks.find((block) => block.treatment.kind === 'responses' && block.treatment.app === app);

/** The app folder as `npm create astro -- --template minimal` and `npm install` leave it, with this repository as `sessionkit`. */
function createApp(): void {
  rmSync(appRoot, { recursive: true, force: true });
  mkdirSync(join(appRoot, 'node_modules/.bin'), { recursive: true });
  writeFileSync(
    join(appRoot, 'package.json'),
    JSON.stringify(
      {
        name: 'my-app',
        type: 'module',
        version: '0.0.1',
        scripts: { dev: 'astro dev', build: 'astro build', preview: 'astro preview', astro: 'astro' },
        dependencies: { '@astrojs/node': '*', astro: '*', sessionkit: '*' },
      },
      null,
      2,
    ),
  );
  // astro and @astrojs/node resolve from the repository's node_modules, a parent folder.
  symlinkSync(repoRoot, join(appRoot, 'node_modules/sessionkit'), 'dir');
  symlinkSync('../sessionkit/dist/cli.js', join(appRoot, 'node_modules/.bin/sessionkit'));
  for (const block of files) {
    const path = join(appRoot, block.file as string);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${block.content}\n`);
  }
}

/** One line of the page's responses block: `POST /logout  without the CSRF token  → 403 {...}`. */
interface Expected {
  readonly method: string;
  readonly path: string;
  readonly situation: string;
  readonly status: number;
  readonly rest: string;
}

function expectedResponses(): Expected[] {
  return (responses?.content ?? '').split('\n').map((line) => {
    const match = /^(GET|POST)\s+(\S+)\s+(.+?)\s+→ (\d{3})(?: (.*))?$/.exec(line);
    if (match === null) throw new Error(`${doc}: cannot read the response line "${line}"`);
    const [, method, path, situation, status, rest] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string?,
    ];
    return { method, path, situation, status: Number(status), rest: rest ?? '' };
  });
}

/** The hidden CSRF field's value in a page. */
function csrfField(html: string): string {
  const token = /<input type="hidden" name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error(`no csrf_token field in:\n${html}`);
  return token;
}

/** A page's HTML without the source locations `astro dev` adds to every element. */
async function html(response: Response): Promise<string> {
  return (await response.text()).replace(/ data-astro-source-(?:file|loc)="[^"]*"/g, '');
}

/** Posts a form as a browser does (same origin), with the page's CSRF field when given. */
function postForm(browser: Browser, path: string, fields: Record<string, string>): Promise<Response> {
  return browser.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.base },
    body: new URLSearchParams(fields).toString(),
  });
}

const account = { email: 'ada@example.com', password: 'correct horse battery staple' };

beforeAll(() => {
  expect(files.map((block) => block.file)).toEqual([
    'astro.config.mjs',
    'src/lib/users.ts',
    'src/pages/login.astro',
    'src/pages/dashboard.astro',
    'src/pages/logout.ts',
  ]);
  createApp();
  // The page's own command makes the secret: `npx sessionkit secret` into .env.
  execFileSync('bash', ['-c', secretCommand?.content ?? 'false'], { cwd: appRoot, env: childEnv() });
  const build = spawnSync(process.execPath, [astroBin, 'build', '--root', appRoot], {
    cwd: appRoot,
    encoding: 'utf8',
    env: childEnv(),
  });
  if (build.status !== 0) throw new Error(`astro build failed:\n${build.stdout}\n${build.stderr}`);
}, 120_000);

afterAll(() => rmSync(appRoot, { recursive: true, force: true }));

describe(`${doc}: the app in five minutes`, () => {
  it('the secret command wrote a 43-character secret into .env', () => {
    expect(readFileSync(join(appRoot, '.env'), 'utf8')).toMatch(/^SESSIONKIT_SECRET=[A-Za-z0-9_-]{43}\n$/);
  });

  for (const mode of ['dev', 'production'] as const) {
    describe(
      mode === 'dev' ? 'npm run dev' : 'npm run build, then node --env-file=.env ./dist/server/entry.mjs',
      () => {
        let server: FixtureServer;
        beforeAll(async () => {
          const port = await freePort();
          const url = `http://127.0.0.1:${port}`;
          server =
            mode === 'dev'
              ? await startServerProcess(
                  [astroBin, 'dev', '--root', appRoot, '--port', String(port), '--host', '127.0.0.1'],
                  appRoot,
                  {},
                  url,
                  60_000,
                )
              : await startServerProcess(
                  ['--env-file=.env', './dist/server/entry.mjs'],
                  appRoot,
                  { HOST: '127.0.0.1', PORT: String(port) },
                  url,
                  20_000,
                );
        }, 90_000);
        afterAll(async () => {
          await server?.stop();
        });

        it('sends a visitor to sign in, signs in with the flash shown once, signs out', async () => {
          const browser = new Browser(server.url);
          const sent = await browser.fetch('/dashboard');
          expect(sent.status).toBe(303);
          const login = sent.headers.get('location') as string;
          const form = await browser.fetch(login);
          expect(form.status).toBe(200);
          const token = csrfField(await form.text());

          const wrong = await postForm(browser, login, { csrf_token: token, email: account.email, password: 'nope' });
          expect(wrong.status).toBe(401);
          expect(await html(wrong)).toContain('That email and password do not match an account.');

          const signedIn = await postForm(browser, login, { csrf_token: token, ...account });
          expect(signedIn.status).toBe(303);
          expect(signedIn.headers.get('location')).toBe('/dashboard');
          const dashboard = await html(await browser.fetch('/dashboard'));
          expect(dashboard).toContain('<h1>Hello, Ada</h1>');
          expect(dashboard).toContain('<p role="status">Welcome, Ada!</p>');
          const again = await html(await browser.fetch('/dashboard'));
          expect(again).not.toContain('Welcome, Ada!');

          const signedOut = await postForm(browser, '/logout', { csrf_token: csrfField(again) });
          expect(signedOut.status).toBe(303);
          expect(signedOut.headers.get('location')).toBe('/login');
          expect(await html(await browser.fetch('/login'))).toContain('<p role="status">You have been signed out.</p>');
          expect((await browser.fetch('/dashboard')).status).toBe(303);
          if (mode === 'dev') expect(server.output()).not.toContain('is not set');
        });

        it("answers as the page's request/response lines say", async () => {
          const browser = new Browser(server.url);
          let token = '';
          const expected = expectedResponses();
          expect(expected.length).toBeGreaterThan(4);
          for (const line of expected) {
            let response: Response;
            if (line.method === 'GET') {
              response = await browser.fetch(line.path);
            } else if (line.path === '/login') {
              if (token === '') token = csrfField(await (await browser.fetch('/login')).text());
              const password = line.situation === 'right password' ? account.password : 'wrong';
              response = await postForm(browser, '/login', { csrf_token: token, email: account.email, password });
            } else if (line.situation === 'without the CSRF token') {
              response = await browser.fetch(line.path, {
                method: 'POST',
                headers: { accept: 'application/json', origin: browser.base },
              });
            } else {
              token = csrfField(await (await browser.fetch('/dashboard')).text());
              response = await postForm(browser, line.path, { csrf_token: token });
            }
            const what = `${line.method} ${line.path} ${line.situation}`;
            expect(response.status, what).toBe(line.status);
            if (line.rest.startsWith('{')) expect(await response.json(), what).toEqual(JSON.parse(line.rest));
            else if (line.rest !== '') expect(response.headers.get('location'), what).toBe(line.rest);
          }
        });
      },
    );
  }
});
