/**
 * `astro check` (@astrojs/check, TypeScript 6 from this workspace) on the getting-started app
 * (`examples/getting-started`, the files of docs/getting-started.md) and the demo, both under
 * Astro's strictest tsconfig (`astro/tsconfigs/strictest`: strict, `exactOptionalPropertyTypes`,
 * `noUncheckedIndexedAccess`, unused locals and parameters, ...). A strict Astro project must be
 * able to use sessionkit's types without an error, a warning or a cast.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { linkPackageInto } from '../support/astro.ts';
import { childEnv } from '../support/child-env.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const examples = `${repoRoot}examples/`;
const astroBin = `${repoRoot}node_modules/astro/bin/astro.mjs`;
const checkBin = fileURLToPath(new URL('./node_modules/@astrojs/check/bin/astro-check.js', import.meta.url));
const preload = fileURLToPath(new URL('./typescript-6.mjs', import.meta.url));

/** `astro sync` (the generated types, `Astro.locals.sessionkit` among them), then `astro check`. */
function astroCheck(app: string): { status: number | null; output: string } {
  linkPackageInto(examples);
  const root = `${examples}${app}`;
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
