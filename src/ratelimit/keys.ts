/**
 * Limiter keys: accounts and client addresses are normalised, then hashed, so that store keys
 * (e.g. in Redis) never hold an email address or an IP in clear.
 *
 * @module
 */
import { encodeBase64Url } from '../core/base64url.ts';
import type { KeyRing } from '../core/keyring.ts';
import { nodeCrypto } from '../core/runtime.ts';
import { createMacKey } from '../csrf/mac.ts';

/**
 * Normalises an account identifier: Unicode NFKC (so full-width and other compatibility forms
 * of the same name share one counter), trimmed, lower-cased.
 *
 * @example
 * ```ts
 * normalizeAccount('  Ada@Example.COM '); // 'ada@example.com'
 * ```
 */
export function normalizeAccount(account: string): string {
  return account.normalize('NFKC').trim().toLowerCase();
}

const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): number[] | undefined {
  const match = ipv4Pattern.exec(text);
  if (match === null) return undefined;
  const parts = match.slice(1).map(Number);
  return parts.every((part) => part <= 255) ? parts : undefined;
}

/** The eight 16-bit groups of an IPv6 address, or `undefined` when `text` is not one. */
function parseIpv6(text: string): number[] | undefined {
  if (text.length > 45 || !/^[0-9a-f:.]+$/.test(text)) return undefined;
  let tail: number[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    if (groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const left = parseGroups(halves[0] as string);
  const right = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (left === undefined || right === undefined) return undefined;
  const known = left.length + right.length + tail.length;
  if (halves.length === 1) return known === 8 ? [...left, ...tail] : undefined;
  if (known > 7) return undefined;
  return [...left, ...new Array<number>(8 - known).fill(0), ...right, ...tail];
}

/**
 * Normalises a client address for per-address limits. IPv4 stays as is (IPv4-mapped IPv6 is
 * unwrapped to IPv4); IPv6 is cut to its `/prefixLength` network (default /64), because one
 * client usually controls a whole /64 and could otherwise rotate addresses at will. Anything
 * that is not an IP address is used as an opaque, lower-cased string.
 *
 * @example
 * ```ts
 * normalizeAddress('::ffff:192.0.2.1'); // '192.0.2.1'
 * normalizeAddress('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 * ```
 */
export function normalizeAddress(address: string, ipv6PrefixLength = 64): string {
  let text = address.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (parseIpv4(text) !== undefined) return text;
  const groups = parseIpv6(text);
  if (groups === undefined) return text;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high, low] = [groups[6] as number, groups[7] as number];
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  const masked = groups.map((group, index) => {
    const bitsBefore = index * 16;
    if (bitsBefore >= ipv6PrefixLength) return 0;
    const keep = Math.min(16, ipv6PrefixLength - bitsBefore);
    return group & (0xffff << (16 - keep)) & 0xffff;
  });
  // Canonical enough for a key: hex groups, trailing zero groups folded.
  let end = masked.length;
  while (end > 0 && masked[end - 1] === 0) end--;
  const prefix = masked.slice(0, end).map((group) => group.toString(16));
  return `${prefix.join(':')}${end < 8 ? '::' : ''}/${ipv6PrefixLength}`;
}

/**
 * What a limiter key counts: one account, one client address, or one account from one address.
 *
 * @example
 * ```ts
 * const kind: KeyKind = 'accountAndAddress';
 * ```
 */
export type KeyKind = 'account' | 'address' | 'accountAndAddress';

/**
 * Turns a normalised identifier into a store key. For `accountAndAddress` the value is
 * {@link pairValue} of the normalised account and address.
 *
 * @example
 * ```ts
 * const hash: KeyHasher = createKeyHasher();
 * const key = await hash('address', normalizeAddress(context.clientAddress));
 * ```
 */
export type KeyHasher = (kind: KeyKind, value: string) => Promise<string>;

/**
 * The identifier of one account at one address, unambiguous whatever characters either holds
 * (a JSON array, so `a\0b` + `c` and `a` + `b\0c` never meet).
 *
 * @example
 * ```ts
 * await hash('accountAndAddress', pairValue(normalizeAccount(email), normalizeAddress(address)));
 * ```
 */
export function pairValue(account: string, address: string): string {
  return JSON.stringify([account, address]);
}

const encoder = new TextEncoder();

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  if (nodeCrypto !== undefined) return nodeCrypto.createHash('sha256').update(data).digest();
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}

/**
 * Builds the hasher for limiter keys: SHA-256 by default, or HMAC-SHA256 under the key ring's
 * `ratelimit` subkey when a key ring is given (then a leaked store cannot be matched against a
 * list of known emails). The kind is part of the input, so account and address keys never collide.
 *
 * @example
 * ```ts
 * const hash = createKeyHasher();
 * await hash('account', normalizeAccount('ada@example.com')); // 43 base64url characters
 * ```
 */
export function createKeyHasher(keyRing?: KeyRing): KeyHasher {
  if (keyRing === undefined) {
    return async (kind, value) => encodeBase64Url(await sha256(encoder.encode(`${kind}\0${value}`)));
  }
  const derived = keyRing.derive('ratelimit');
  const macKey = Promise.resolve(derived).then((keys) => createMacKey((keys[0] as { material: Uint8Array }).material));
  return async (kind, value) => encodeBase64Url(await (await macKey).sign(encoder.encode(`${kind}\0${value}`)));
}
