import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { createKeyRing } from './keyring.ts';
import { createSealer, sealPrefix } from './seal.ts';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('createSealer', () => {
  const sealer = createSealer(createKeyRing(testSecrets[0]), 'cookie');

  it('round-trips and carries the version prefix', async () => {
    const token = await sealer.seal(encode('{"hello":"world"}'), 'sid');
    expect(token.startsWith(sealPrefix)).toBe(true);
    const opened = await sealer.unseal(token, 'sid');
    expect(opened.ok && decode(opened.plaintext)).toBe('{"hello":"world"}');
  });

  it('uses a fresh IV per seal (same input, different tokens)', async () => {
    const a = await sealer.seal(encode('x'), 'sid');
    const b = await sealer.seal(encode('x'), 'sid');
    expect(a).not.toBe(b);
  });

  it('binds the context: a token from one cookie does not open as another', async () => {
    const token = await sealer.seal(encode('x'), 'sid');
    expect(await sealer.unseal(token, 'other')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('binds the purpose: a cookie token does not open as a CSRF token', async () => {
    const ring = createKeyRing(testSecrets[0]);
    const token = await createSealer(ring, 'cookie').seal(encode('x'), 'sid');
    expect(await createSealer(ring, 'csrf').unseal(token, 'sid')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('fails to open after any single-byte mutation of the sealed bytes', async () => {
    const token = await sealer.seal(encode(JSON.stringify({ userId: 'u_1', role: 'user' })), 'sid');
    const bytes = decodeBase64Url(token.slice(sealPrefix.length))!;
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (index, delta) => {
        const mutated = new Uint8Array(bytes);
        mutated[index] = ((mutated[index] as number) + delta) % 256;
        const result = await sealer.unseal(sealPrefix + encodeBase64Url(mutated), 'sid');
        expect(result.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('fails to open after any mutation of the token text (replace, insert, delete, truncate)', async () => {
    const token = await sealer.seal(encode('{"a":1}'), 'sid');
    const mutation = fc.oneof(
      fc.tuple(fc.constant('replace' as const), fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 })),
      fc.tuple(fc.constant('insert' as const), fc.nat(token.length), fc.string({ minLength: 1, maxLength: 1 })),
      fc.tuple(fc.constant('delete' as const), fc.nat(token.length - 1), fc.constant('')),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async ([kind, index, char]) => {
        const mutated =
          kind === 'replace'
            ? token.slice(0, index) + char + token.slice(index + 1)
            : kind === 'insert'
              ? token.slice(0, index) + char + token.slice(index)
              : token.slice(0, index) + token.slice(index + 1);
        fc.pre(mutated !== token);
        expect((await sealer.unseal(mutated, 'sid')).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('tells a token sealed under an unknown key from a tampered one', async () => {
    const foreign = await createSealer(createKeyRing(testSecrets[1]), 'cookie').seal(encode('x'), 'sid');
    expect(await sealer.unseal(foreign, 'sid')).toEqual({ ok: false, reason: 'unknown_key' });
    const own = await sealer.seal(encode('x'), 'sid');
    const flipped = own.slice(0, -2) + (own.at(-2) === 'A' ? 'B' : 'A') + own.at(-1);
    expect(await sealer.unseal(flipped, 'sid')).toMatchObject({ ok: false });
    expect(await sealer.unseal('garbage', 'sid')).toEqual({ ok: false, reason: 'malformed' });
    expect(await sealer.unseal('v1.AAAA', 'sid')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rotation: the newest secret seals, older ones still open', async () => {
    const oldSealer = createSealer(createKeyRing(testSecrets[1]), 'cookie');
    const rotated = createSealer(createKeyRing([testSecrets[0], testSecrets[1]]), 'cookie');
    const oldToken = await oldSealer.seal(encode('old'), 'sid');
    const opened = await rotated.unseal(oldToken, 'sid');
    expect(opened).toMatchObject({ ok: true, keyIndex: 1 });
    const newToken = await rotated.seal(encode('new'), 'sid');
    expect(await createSealer(createKeyRing(testSecrets[0]), 'cookie').unseal(newToken, 'sid')).toMatchObject({
      ok: true,
      keyIndex: 0,
    });
    expect(await oldSealer.unseal(newToken, 'sid')).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('the WebCrypto and node:crypto engines produce interchangeable tokens', async () => {
    const web = createSealer(createKeyRing(testSecrets[0], { forceWebCrypto: true }), 'cookie', {
      engine: 'webcrypto',
    });
    const node = createSealer(createKeyRing(testSecrets[0]), 'cookie', { engine: 'node' });
    const fromWeb = await web.seal(encode('from web'), 'sid');
    const fromNode = await node.seal(encode('from node'), 'sid');
    const a = await node.unseal(fromWeb, 'sid');
    const b = await web.unseal(fromNode, 'sid');
    expect(a.ok && decode(a.plaintext)).toBe('from web');
    expect(b.ok && decode(b.plaintext)).toBe('from node');
    expect(
      await web.unseal(
        fromNode.replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A')),
        'sid',
      ),
    ).toMatchObject({ ok: false });
  });

  it('never throws on arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 400 }), async (text) => {
        const result = await sealer.unseal(text, 'sid');
        expect(result.ok).toBe(false);
        const prefixed = await sealer.unseal(sealPrefix + text, 'sid');
        expect(prefixed.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('createKeyRing', () => {
  it('derives the same subkeys on both engines, always answering with a promise', async () => {
    const node = createKeyRing(testSecrets[0]);
    const web = createKeyRing(testSecrets[0], { forceWebCrypto: true });
    const fromNode = node.derive('cookie');
    const fromWeb = web.derive('cookie');
    expect(fromNode).toBeInstanceOf(Promise);
    expect(fromWeb).toBeInstanceOf(Promise);
    expect(await fromNode).toEqual(await fromWeb);
  });

  it('requires at least one secret and rejects duplicates', () => {
    expect(() => createKeyRing([])).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => createKeyRing([testSecrets[0], testSecrets[0]])).toThrow(/secrets\[1\] repeats secrets\[0\]/);
  });

  it('derives different subkeys per purpose and caches them', async () => {
    const ring = createKeyRing(testSecrets[0]);
    const a = await ring.derive('cookie');
    const b = await ring.derive('csrf');
    expect(await ring.derive('cookie')).toBe(a);
    expect(a[0]!.material).not.toEqual(b[0]!.material);
    expect(a[0]!.keyId).toBe(b[0]!.keyId);
  });
});
