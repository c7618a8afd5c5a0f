/**
 * Secrets are compared in constant time, by the platform or by a loop without early exit:
 * - sealed cookies: the AES-GCM tag is checked inside the platform's decrypt (OpenSSL through
 *   node:crypto `decipher.final()`, or WebCrypto `subtle.decrypt`); no tag byte is compared in
 *   JavaScript;
 * - store tokens: only SHA-256 digests of the token secret are compared, over their full length;
 * - CSRF tokens: `timingSafeEqual` / `subtle.verify`, proven in src/csrf/token.test.ts
 *   ("constant-time verification").
 * Each test proves the code path (spies and source checks); the timing checks only guard against
 * gross regressions.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKeyRing } from '../../src/core/keyring.ts';
import { createSessionManager } from '../../src/core/manager.ts';
import { nodeCrypto } from '../../src/core/runtime.ts';
import { createSealer } from '../../src/core/seal.ts';
import type { SessionStore, StoredSession } from '../../src/core/store.ts';
import { medianTimeRatio } from '../support/timing.ts';
import { fixtureSecret } from './support/kit.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const source = (path: string): string =>
  readFileSync(new URL(`../../src/core/${path}`, import.meta.url), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');

/** Lines that compare secret-like values with JavaScript operators (lengths, typeof and undefined checks aside). */
function secretComparisons(text: string): string[] {
  const secretLike = /\b\w*(?:tag|mac|digest|hash|secret|expected|plaintext)\w*\b/i;
  return text
    .replace(/\b\w+\.length\b/g, 'LENGTH')
    .replace(/\b\w+Length\b/g, 'LENGTH')
    .replace(/typeof \w+(?:\.\w+)* [!=]== '\w+'/g, 'TYPEOF')
    .replace(/[!=]==? (?:undefined|null)\b/g, ' IS_NULLISH')
    .split('\n')
    .filter(
      (line) =>
        (/[!=]==?/.test(line) && secretLike.test(line)) ||
        /Buffer\.compare|\.equals\(|localeCompare|\.every\(|\.some\(/.test(line),
    );
}

describe('the checker itself', () => {
  it('catches the usual mistakes and lets public checks through', () => {
    expect(secretComparisons('if (row.secretHash !== hashed) return;')).toHaveLength(1);
    expect(secretComparisons('return tag[i] === expected[i];')).toHaveLength(1);
    expect(secretComparisons('return Buffer.compare(tag, mac) === 0;')).toHaveLength(1);
    expect(secretComparisons('if (ciphertextAndTag.length < tagLength) return undefined;')).toHaveLength(0);
    expect(
      secretComparisons("if (typeof expected !== 'string' || expected.length !== actual.length) return false;"),
    ).toHaveLength(0);
    expect(secretComparisons('return plaintext === undefined ? a : b;')).toHaveLength(0);
  });
});

describe('sealed cookies: the GCM tag is verified by the platform', () => {
  const keyRing = createKeyRing(fixtureSecret);

  function tamperLastTagByte(token: string): string {
    const bytes = Buffer.from(token.slice(3), 'base64url');
    bytes[bytes.length - 1] = (bytes.at(-1) as number) ^ 1;
    return `v1.${bytes.toString('base64url')}`;
  }

  it('node engine: the tag goes to decipher.setAuthTag and is checked by decipher.final (OpenSSL)', async () => {
    const sealer = createSealer(keyRing, 'cookie', { engine: 'node' });
    const token = await sealer.seal(new TextEncoder().encode('{"userId":"u"}'), '__Host-session');
    const real = nodeCrypto!.createDecipheriv.bind(nodeCrypto);
    const tags: Uint8Array[] = [];
    const finals: { threw: boolean }[] = [];
    vi.spyOn(nodeCrypto!, 'createDecipheriv').mockImplementation((...args: Parameters<typeof real>) => {
      const decipher = real(...args);
      const setAuthTag = decipher.setAuthTag.bind(decipher);
      const final = decipher.final.bind(decipher);
      decipher.setAuthTag = (tag: Uint8Array) => {
        tags.push(Uint8Array.from(tag));
        return setAuthTag(tag);
      };
      decipher.final = () => {
        const record = { threw: true };
        finals.push(record);
        const result = final();
        record.threw = false;
        return result;
      };
      return decipher;
    });
    const compare = vi.spyOn(nodeCrypto!, 'timingSafeEqual');

    expect((await sealer.unseal(token, '__Host-session')).ok).toBe(true);
    expect(await sealer.unseal(tamperLastTagByte(token), '__Host-session')).toEqual({ ok: false, reason: 'tampered' });
    expect(await sealer.unseal(token, 'other-cookie')).toEqual({ ok: false, reason: 'tampered' }); // bound AAD

    const raw = Buffer.from(token.slice(3), 'base64url');
    expect(tags).toHaveLength(3);
    expect(Buffer.from(tags[0]!)).toEqual(raw.subarray(raw.length - 16));
    expect(tags.every((tag) => tag.length === 16)).toBe(true);
    expect(finals.map((call) => call.threw)).toEqual([false, true, true]);
    expect(compare).not.toHaveBeenCalled(); // nothing compares the tag outside OpenSSL
  });

  it('webcrypto engine: the tag is verified inside crypto.subtle.decrypt', async () => {
    const ring = createKeyRing(fixtureSecret, { forceWebCrypto: true });
    const sealer = createSealer(ring, 'cookie', { engine: 'webcrypto' });
    const token = await sealer.seal(new TextEncoder().encode('{"userId":"u"}'), '__Host-session');
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    const compare = vi.spyOn(nodeCrypto!, 'timingSafeEqual');
    expect((await sealer.unseal(token, '__Host-session')).ok).toBe(true);
    expect(await sealer.unseal(tamperLastTagByte(token), '__Host-session')).toEqual({ ok: false, reason: 'tampered' });
    expect(decrypt).toHaveBeenCalledTimes(2);
    for (const [algorithm, , data] of decrypt.mock.calls) {
      expect(algorithm).toMatchObject({ name: 'AES-GCM', tagLength: 128 });
      expect((data as Uint8Array).length).toBe(Buffer.from(token.slice(3), 'base64url').length - 16); // ciphertext + tag
    }
    expect(compare).not.toHaveBeenCalled();
  });

  it('the sealing code never compares tag or plaintext bytes in JavaScript', () => {
    for (const file of ['aead.ts', 'seal.ts', 'sealed-backend.ts']) {
      expect(secretComparisons(source(file)), file).toEqual([]);
    }
  });
});

describe('store tokens: only SHA-256 digests are compared, over their full length', () => {
  /** A store that remembers what the backend wrote, and can serve an altered row. */
  function recordingStore() {
    const rows = new Map<string, StoredSession>();
    const store: SessionStore = {
      name: 'recording',
      capabilities: { atomicPatch: false, userIndex: false, nativeTtl: false },
      get: async (id) => rows.get(id),
      create: async (session) => {
        rows.set(session.id, session);
        return true;
      },
      patch: async () => true,
      delete: async (id) => rows.delete(id),
      listByUser: async () => [],
      deleteByUser: async () => [],
    };
    return { store, rows };
  }

  async function signedInToken() {
    const { store, rows } = recordingStore();
    const manager = createSessionManager({ secrets: fixtureSecret, store });
    const { session } = await manager.load(null);
    session.set('userId', 'u_1');
    const [line] = await manager.commit(session);
    const token = line!.slice('__Host-session='.length, line!.indexOf(';'));
    const [id, secret] = token.split('.') as [string, string];
    const row = rows.get(id)!;
    return { manager, rows, token, id, secret, row };
  }

  it('the stored row holds a digest, not the secret; a row holding the raw secret does not match', async () => {
    const { manager, rows, token, id, secret, row } = await signedInToken();
    expect(row.secretHash).not.toContain(secret);
    expect(row.secretHash).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes: SHA-256
    expect((await manager.load(`__Host-session=${token}`)).status).toBe('valid');
    rows.set(id, { ...row, secretHash: secret });
    expect(await manager.load(`__Host-session=${token}`)).toMatchObject({ status: 'rejected', reason: 'revoked' });
  });

  it('a digest that differs in its first or in its last character is refused alike', async () => {
    const { manager, rows, token, id, row } = await signedInToken();
    const flip = (text: string, index: number): string =>
      text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
    for (const index of [0, 21, 42]) {
      rows.set(id, { ...row, secretHash: flip(row.secretHash, index) });
      expect(await manager.load(`__Host-session=${token}`), String(index)).toMatchObject({
        status: 'rejected',
        reason: 'revoked',
      });
    }
  });

  it('the comparison is a constant-time primitive or a full-length loop without early exit', () => {
    const text = source('store-backend.ts');
    const match = /function digestsEqual\([^)]*\)[^{]*\{([\s\S]*?)\n\}/.exec(text);
    expect(match, 'digestsEqual() compares the digests').not.toBeNull();
    const body = match![1]!;
    if (!/timingSafeEqual\(/.test(body)) {
      // A loop over every position that only accumulates differences; one verdict after it.
      const loop = body.slice(body.indexOf('for ('), body.lastIndexOf('return'));
      expect(loop).toMatch(/\|=/);
      expect(loop).toMatch(/\^/);
      expect(loop).not.toMatch(/\breturn\b|\bbreak\b/);
    }
    // The read path goes through it, and nothing else compares a stored hash.
    expect(text).toMatch(/digestsEqual\(row\.secretHash, /);
    expect(secretComparisons(text.replace(/function digestsEqual[\s\S]*?\n\}/, ''))).toEqual([]);
  });

  it('timing sanity: early- and late-differing digests take about the same time (generous bound)', async () => {
    const { manager, rows, token, id, row } = await signedInToken();
    const variant = (index: number): StoredSession => ({
      ...row,
      secretHash:
        row.secretHash.slice(0, index) + (row.secretHash[index] === 'A' ? 'B' : 'A') + row.secretHash.slice(index + 1),
    });
    const early = variant(0);
    const late = variant(42);
    const header = `__Host-session=${token}`;
    const loadWith = (stored: StoredSession) => () => {
      rows.set(id, stored);
      return manager.load(header);
    };
    const ratio = await medianTimeRatio(loadWith(early), loadWith(late), { rounds: 15, batch: 300 });
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
