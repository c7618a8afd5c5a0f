import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import { medianTimeRatio } from '../../test/support/timing.ts';
import { decodeBase64Url, encodeBase64Url } from '../core/base64url.ts';
import { createKeyRing } from '../core/keyring.ts';
import { nodeCrypto, secureRandomBytes } from '../core/runtime.ts';
import { createMacKey } from './mac.ts';
import { createCsrfTokenCodec, csrfTokenLength, csrfTokenPrefix } from './token.ts';

const day = 24 * 60 * 60;

function setup(engine: 'node' | 'webcrypto' = 'node', secrets: readonly string[] = [testSecrets[0]]) {
  const clock = createTestClock();
  const ring = createKeyRing(secrets, { forceWebCrypto: engine === 'webcrypto' });
  const codec = createCsrfTokenCodec(ring, {
    maxAgeSeconds: day,
    cryptoEngine: engine,
    now: clock.now,
    randomBytes: secureRandomBytes,
  });
  return { clock, codec };
}

/** Flips one bit of the MAC at `index` (0 = first MAC byte) and re-encodes the token. */
function flipMacByte(token: string, index: number): string {
  const bytes = new Uint8Array(decodeBase64Url(token.slice(csrfTokenPrefix.length))!);
  const macStart = bytes.length - 32;
  bytes[macStart + index] = (bytes[macStart + index] as number) ^ 1;
  return csrfTokenPrefix + encodeBase64Url(bytes);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(['node', 'webcrypto'] as const)('CSRF tokens (%s engine)', (engine) => {
  it('round-trips, has the documented length, and differs on every issue', async () => {
    const { codec } = setup(engine);
    const a = await codec.issue('session-a');
    const b = await codec.issue('session-a');
    expect(a).not.toBe(b);
    expect(a).toHaveLength(csrfTokenLength);
    expect(a.startsWith(csrfTokenPrefix)).toBe(true);
    expect(await codec.verify(a, 'session-a')).toMatchObject({ ok: true });
    expect(await codec.verify(b, 'session-a')).toMatchObject({ ok: true });
  });

  it('a token of another session fails', async () => {
    const { codec } = setup(engine);
    const token = await codec.issue('session-a');
    expect(await codec.verify(token, 'session-b')).toEqual({ ok: false, reason: 'invalid' });
    expect(await codec.verify(token, '')).toEqual({ ok: false, reason: 'invalid' });
    expect(await codec.verify(token, undefined)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('expires after maxAgeSeconds and rejects tokens dated in the future', async () => {
    const { codec, clock } = setup(engine);
    const token = await codec.issue('s');
    clock.advanceSeconds(day);
    expect(await codec.verify(token, 's')).toMatchObject({ ok: true });
    clock.advanceSeconds(1);
    expect(await codec.verify(token, 's')).toEqual({ ok: false, reason: 'expired' });

    const future = setup(engine);
    future.clock.advanceSeconds(3600);
    const ahead = await future.codec.issue('s');
    expect(await setup(engine).codec.verify(ahead, 's')).toEqual({ ok: false, reason: 'expired' });
  });

  it('rotation: old secrets still verify, unknown secrets are told apart', async () => {
    const old = setup(engine, [testSecrets[1]]);
    const rotated = setup(engine, [testSecrets[0], testSecrets[1]]);
    const oldToken = await old.codec.issue('s');
    expect(await rotated.codec.verify(oldToken, 's')).toMatchObject({ ok: true });
    expect(await setup(engine, [testSecrets[2]]).codec.verify(oldToken, 's')).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
  });

  it('is bound to the csrf purpose: the same secret under another purpose does not verify', async () => {
    const ring = createKeyRing(testSecrets[0]);
    const cookieKey = createMacKey((await ring.derive('cookie'))[0]!.material, 'node');
    const { codec } = setup(engine);
    const token = await codec.issue('s');
    const bytes = new Uint8Array(decodeBase64Url(token.slice(csrfTokenPrefix.length))!);
    const header = bytes.subarray(0, 24);
    const data = new Uint8Array([...header, ...new TextEncoder().encode('s')]);
    bytes.set(await cookieKey.sign(data), 24);
    expect(await codec.verify(csrfTokenPrefix + encodeBase64Url(bytes), 's')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('any single-character change of a token fails', async () => {
    const { codec } = setup(engine);
    const token = await codec.issue('s');
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 }), async (index, char) => {
        const mutated = token.slice(0, index) + char + token.slice(index + 1);
        fc.pre(mutated !== token);
        expect((await codec.verify(mutated, 's')).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary input', async () => {
    const { codec } = setup(engine);
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (token, sessionId) => {
        expect((await codec.verify(token, sessionId)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 72, maxLength: 72 }), async (tail) => {
        expect((await codec.verify(`${csrfTokenPrefix}${tail}`, 's')).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to issue a token without a session id', async () => {
    const { codec } = setup(engine);
    await expect(codec.issue('')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });
});

describe('CSRF tokens: the engines interoperate', () => {
  it('a token issued on one engine verifies on the other', async () => {
    const node = setup('node');
    const web = setup('webcrypto');
    expect(await web.codec.verify(await node.codec.issue('s'), 's')).toMatchObject({ ok: true });
    expect(await node.codec.verify(await web.codec.issue('s'), 's')).toMatchObject({ ok: true });
  });
});

describe('constant-time verification', () => {
  it('node engine: the MAC is compared by timingSafeEqual, once per verification, right or wrong', async () => {
    const { codec } = setup('node');
    const token = await codec.issue('s');
    const compare = vi.spyOn(nodeCrypto!, 'timingSafeEqual');
    const subtleVerify = vi.spyOn(crypto.subtle, 'verify');
    expect((await codec.verify(token, 's')).ok).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);
    expect((await codec.verify(flipMacByte(token, 0), 's')).ok).toBe(false);
    expect((await codec.verify(flipMacByte(token, 31), 's')).ok).toBe(false);
    expect((await codec.verify(token, 'other-session')).ok).toBe(false);
    expect(compare).toHaveBeenCalledTimes(4);
    // The comparison sees the full 32-byte tags.
    for (const [a, b] of compare.mock.calls) {
      expect(a).toHaveLength(32);
      expect(b).toHaveLength(32);
    }
    expect(subtleVerify).not.toHaveBeenCalled();
  });

  it('webcrypto engine: the MAC is checked by crypto.subtle.verify, never compared in JavaScript', async () => {
    const { codec } = setup('webcrypto');
    const token = await codec.issue('s');
    const subtleVerify = vi.spyOn(crypto.subtle, 'verify');
    const subtleSign = vi.spyOn(crypto.subtle, 'sign');
    const compare = vi.spyOn(nodeCrypto!, 'timingSafeEqual');
    expect((await codec.verify(token, 's')).ok).toBe(true);
    expect((await codec.verify(flipMacByte(token, 0), 's')).ok).toBe(false);
    expect((await codec.verify(flipMacByte(token, 31), 's')).ok).toBe(false);
    expect(subtleVerify).toHaveBeenCalledTimes(3);
    expect(subtleSign).not.toHaveBeenCalled(); // no "sign then compare" on the verify path
    expect(compare).not.toHaveBeenCalled();
  });

  it('the source has no JavaScript comparison of MAC bytes (no ===, Buffer.compare, equals)', () => {
    const macLike = /\b\w*(?:mac|tag|expected|signature|digest)\w*\b/i;
    const offending = (source: string): string[] =>
      source
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        // Lengths are public (fixed by the format): `tag.length !== macLength` is fine.
        .replace(/\b\w+\.length\b/g, 'LENGTH')
        .replace(/\b\w+Length\b/g, 'LENGTH')
        .split('\n')
        .filter(
          (line) =>
            (/[!=]==?/.test(line) && macLike.test(line)) || /Buffer\.compare|\.equals\(|\.every\(|\.some\(/.test(line),
        );
    // The check itself catches the usual mistakes.
    expect(offending('if (expected[i] !== tag[i]) return false;')).toHaveLength(1);
    expect(offending('return encode(mac) === given;')).toHaveLength(1);
    expect(offending('return Buffer.compare(a, b) === 0;')).toHaveLength(1);
    expect(offending('if (tag.length !== macLength) return false;')).toHaveLength(0);
    for (const file of ['./mac.ts', './token.ts']) {
      expect(offending(readFileSync(new URL(file, import.meta.url), 'utf8')), file).toEqual([]);
    }
  });

  it('timing sanity: early- and late-mismatching MACs take about the same time (generous bound)', async () => {
    const { codec } = setup('node');
    const token = await codec.issue('s');
    const early = flipMacByte(token, 0);
    const late = flipMacByte(token, 31);
    const ratio = await medianTimeRatio(
      () => codec.verify(early, 's'),
      () => codec.verify(late, 's'),
      { rounds: 21, batch: 200 },
    );
    // A real leak would need a far smaller bound to show; this only guards against gross
    // regressions (e.g. an early-exit loop around an expensive step) without flaking in CI.
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
