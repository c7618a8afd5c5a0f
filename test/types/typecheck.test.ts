/**
 * The type tests (`*.types.ts`) are checked by `npm run typecheck`. This proves that a broken
 * expectation fails that check: a copy of the declared-types program in which one line that must
 * not compile does compile (an unused `@ts-expect-error`), and one that must compile does not.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const declared = join(repoRoot, 'test/types/declared');
// Inside the repository, so `sessionkit` resolves to this package (self-reference), like the original.
const scratch = mkdtempSync(join(repoRoot, 'test/types/.broken-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function typecheck(dir: string): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '--noEmit', '--pretty', 'false', '-p', dir],
    {
      encoding: 'utf8',
    },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('type tests', () => {
  it('the declared-types program compiles as committed', () => {
    expect(typecheck(declared)).toEqual({ status: 0, output: '' });
  });

  it('a broken expectation fails the typecheck', () => {
    cpSync(declared, scratch, { recursive: true });
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({ extends: '../../../tsconfig.json', include: ['./*.ts'], exclude: [] }),
    );
    const file = join(scratch, 'app.types.ts');
    const source = readFileSync(file, 'utf8');
    const broken = source
      .replace("session.get('cuont');", "session.get('count');") // a typo fixed: the directive above it is unused
      .replace("session.unset('email');", "session.unset('cart');"); // a present key unset: must not compile
    expect(broken).not.toBe(source);
    writeFileSync(file, broken);
    const { status, output } = typecheck(scratch);
    expect(status).not.toBe(0);
    expect(output).toMatch(/app\.types\.ts\(\d+,\d+\): error TS2578: Unused '@ts-expect-error' directive/);
    expect(output).toMatch(/app\.types\.ts\(\d+,\d+\): error TS2345: Argument of type '"cart"'/);
  });
});
