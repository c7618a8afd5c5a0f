/**
 * Session ids, store token secrets, IVs and CSRF nonces come from the platform CSPRNG
 * (`crypto.getRandomValues`), 32 bytes (256 bits) per id or secret. ASVS 5.0 V7.2.3.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSessionManager } from '../../src/core/manager.ts';
import { memoryStore } from '../../src/stores/memory.ts';
import { fixtureSecret } from './support/kit.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('randomness', () => {
  it('store tokens (id and secret) are drawn from crypto.getRandomValues, 256 bits each, never repeated', async () => {
    const draw = vi.spyOn(crypto, 'getRandomValues');
    const manager = createSessionManager({ secrets: fixtureSecret, store: memoryStore() });
    const tokens = new Set<string>();
    for (let index = 0; index < 300; index++) {
      const { session } = await manager.load(null);
      session.set('userId', `u_${index}`);
      const [line] = await manager.commit(session);
      const token = line!.slice('__Host-session='.length, line!.indexOf(';'));
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      tokens.add(token.slice(0, 43));
      tokens.add(token.slice(44));
    }
    expect(tokens.size).toBe(600);
    // 300 sessions x 64 bytes cannot come from fewer than four 4 KiB CSPRNG batches.
    expect(draw.mock.calls.length).toBeGreaterThanOrEqual(4);
  });

  it('no library code uses Math.random', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders = sourceFiles(root).filter((file) => /Math\.random/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
