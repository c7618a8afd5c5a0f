/**
 * `astro check` (@astrojs/check, TypeScript 6 from this workspace) on the getting-started app
 * (written from the blocks of docs/getting-started.md's "The app in five minutes", as
 * test/docs/getting-started.test.ts builds it) and the demo, both under
 * Astro's strictest tsconfig (`astro/tsconfigs/strictest`: strict, `exactOptionalPropertyTypes`,
 * `noUncheckedIndexedAccess`, unused locals and parameters, ...). A strict Astro project must be
 * able to use sessionkit's types without an error, a warning or a cast.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { appName, blocksOf } from '../docs/blocks.ts';
import { linkPackageInto } from '../support/astro.ts';
import { childEnv } from '../support/child-env.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const examples = `${repoRoot}examples/`;
/** Where the getting-started app is written: apps under it resolve astro from the repository. */
const docsApps = `${repoRoot}.tmp/astro-check/`;

/** Writes docs/getting-started.md's app, file for file, with Astro's strictest tsconfig. */
function writeGettingStartedApp(): string {
  const doc = 'docs/getting-started.md';
  const root = `${docsApps}getting-started`;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const section = `${appName(doc, '')}--the-app-in-five-minutes`;
  const files = blocksOf(doc).filter((block) => appName(doc, block.section) === section && block.file !== undefined);
  if (files.length === 0) throw new Error(`${doc}: no files found in "The app in five minutes"`);
  for (const block of files) {
    const path = join(root, block.file as string);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${block.content}\n`);
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'my-app', type: 'module', private: true }));
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({ extends: 'astro/tsconfigs/strictest', include: ['.astro/types.d.ts', '**/*'], exclude: ['dist'] }),
  );
  return root;
}
const astroBin = `${repoRoot}node_modules/astro/bin/astro.mjs`;
const checkBin = fileURLToPath(new URL('./node_modules/@astrojs/check/bin/astro-check.js', import.meta.url));
const preload = fileURLToPath(new URL('./typescript-6.mjs', import.meta.url));

/** `astro sync` (the generated types, `Astro.locals.sessionkit` among them), then `astro check`. */
function astroCheck(app: string): { status: number | null; output: string } {
  let root: string;
  if (app === 'getting-started') {
    root = writeGettingStartedApp();
    linkPackageInto(docsApps);
  } else {
    linkPackageInto(examples);
    root = `${examples}${app}`;
  }
  const sync = spawnSync(process.execPath, [astroBin, 'sync', '--root', root], { encoding: 'utf8', env: childEnv({}) });
  if (sync.status !== 0) throw new Error(`astro sync ${app} failed:\n${sync.stdout}\n${sync.stderr}`);
  const check = spawnSync(process.execPath, ['--import', preload, checkBin, '--root', root], {
    encoding: 'utf8',
    env: childEnv({}),
  });
  return { status: check.status, output: `${check.stdout}\n${check.stderr}` };
}

const brokenPage = `${examples}demo/src/pages/unchecked.astro`;
afterAll(() => rmSync(brokenPage, { force: true }));

describe('astro check, strictest tsconfig', () => {
  it.each(['getting-started', 'demo'])('%s: no errors, warnings or hints', (app) => {
    const { status, output } = astroCheck(app);
    expect(output).toMatch(/- 0 errors\n- 0 warnings\n- 0 hints/);
    expect(status).toBe(0);
  });

  it('the check is not vacuous: an implicit any, or a mistyped session key through Astro.locals, fails it', () => {
    writeFileSync(
      brokenPage,
      [
        '---',
        'function twice(value) {',
        '  return value * 2;',
        '}',
        "const visits = Astro.locals.sessionkit.session.get('cuont');",
        '---',
        '<p>{twice(2)} {visits}</p>',
        '',
      ].join('\n'),
    );
    const { status, output } = astroCheck('demo');
    expect(output).toMatch(/unchecked\.astro.*ts\(7006\)/);
    expect(output).toMatch(/unchecked\.astro.*ts\(2345\).*"cuont"/);
    expect(status).not.toBe(0);
  });
});
