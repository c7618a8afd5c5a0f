/**
 * Password hashing with scrypt from node:crypto: a per-password random salt, parameters stored
 * with the hash (so they can be raised later), constant-time comparison.
 *
 * Format: `scrypt$<log2 N>$<r>$<p>$<salt base64url>$<key base64url>`.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const keyLength = 32;
const current = { log2N: 15, r: 8, p: 1 };
const maxPasswordLength = 1024;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** log2N;
  // scrypt needs 128 * N * r bytes; leave headroom above that.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes a password for storage (about 50-100 ms, off the main thread). */
export async function hashPassword(password: string): Promise<string> {
  if (password.length > maxPasswordLength) throw new Error('password too long');
  const salt = randomBytes(16);
  const key = await derive(password, salt, current.log2N, current.r, current.p);
  return ['scrypt', current.log2N, current.r, current.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** True when `password` matches `stored`. Never throws for a malformed hash (it just does not match). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || password.length > maxPasswordLength) return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every(Number.isInteger) || log2N < 10 || log2N > 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    return false;
  }
  const salt = Buffer.from(parts[4] as string, 'base64url');
  const expected = Buffer.from(parts[5] as string, 'base64url');
  if (expected.length !== keyLength) return false;
  const actual = await derive(password, salt, log2N, r, p);
  return timingSafeEqual(actual, expected);
}
