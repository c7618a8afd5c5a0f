import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSecrets } from '../core/secrets.ts';
import { freshSecret, runCli } from './run.ts';

const srcRoot = fileURLToPath(new URL('../', import.meta.url));

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(
    args,
    (text) => {
      out += text;
    },
    (text) => {
      err += text;
    },
  );
  return { code, out, err };
}

describe('sessionkit secret', () => {
  it('prints a fresh 256-bit base64url secret that the secret check accepts, a new one each time', () => {
    const printed = new Set<string>();
    for (let index = 0; index < 200; index++) {
      const { code, out, err } = run(['secret']);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(checkSecrets(out.trim(), { source: 'SESSIONKIT_SECRET' }).ok).toBe(true);
      printed.add(out);
    }
    expect(printed.size).toBe(200);
    expect(freshSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('runs as the built command (`package.json#bin`): `sessionkit secret` prints one line and exits 0', () => {
    const bin = join(srcRoot, '..', 'dist', 'cli.js');
    const result = spawnSync(process.execPath, [bin, 'secret'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it('prints usage for help, and usage on stderr with exit code 2 for anything else', () => {
    expect(run([])).toMatchObject({ code: 0, out: expect.stringContaining('sessionkit <command>') });
    expect(run(['help']).out).toContain('secret    Print a fresh secret');
    const unknown = run(['secrets']);
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/^sessionkit: unknown command "secrets"\./);
    expect(run(['secret', 'extra']).code).toBe(2);
  });

  it('is imported by no runtime module', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.startsWith(join(srcRoot, 'cli'))) {
          if (/from ['"][^'"]*\/cli(\/[^'"]*)?(\.ts)?['"]/.test(readFileSync(path, 'utf8'))) offenders.push(path);
        }
      }
    };
    walk(srcRoot);
    expect(offenders).toEqual([]);
  });
});
