/**
 * Strict base64url (RFC 4648 §5, no padding).
 *
 * Node's own decoder skips characters outside the alphabet and ignores non-zero trailing
 * bits, so many different strings decode to the same bytes. Sealed tokens must have exactly
 * one spelling, so decoding here rejects anything that is not the canonical encoding.
 *
 * @module
 */

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const alphabetOnly = /^[A-Za-z0-9_-]*$/;
const sextetOf = new Int8Array(128).fill(-1);
for (let index = 0; index < alphabet.length; index++) sextetOf[alphabet.charCodeAt(index)] = index;

type NodeBuffer = {
  from(input: string, encoding: 'base64url'): Uint8Array;
  from(input: Uint8Array['buffer'], offset: number, length: number): { toString(encoding: 'base64url'): string };
};
const NodeBufferClass = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * Encodes bytes as unpadded base64url.
 *
 * @example
 * ```ts
 * encodeBase64Url(new Uint8Array([251, 255])); // '-_8'
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  if (NodeBufferClass)
    return NodeBufferClass.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  let output = '';
  let index = 0;
  for (; index + 2 < bytes.length; index += 3) {
    const chunk = ((bytes[index] as number) << 16) | ((bytes[index + 1] as number) << 8) | (bytes[index + 2] as number);
    output +=
      alphabet[chunk >> 18]! + alphabet[(chunk >> 12) & 63]! + alphabet[(chunk >> 6) & 63]! + alphabet[chunk & 63]!;
  }
  const rest = bytes.length - index;
  if (rest === 1) {
    const chunk = (bytes[index] as number) << 16;
    output += alphabet[chunk >> 18]! + alphabet[(chunk >> 12) & 63]!;
  } else if (rest === 2) {
    const chunk = ((bytes[index] as number) << 16) | ((bytes[index + 1] as number) << 8);
    output += alphabet[chunk >> 18]! + alphabet[(chunk >> 12) & 63]! + alphabet[(chunk >> 6) & 63]!;
  }
  return output;
}

/**
 * True when `text` is the canonical unpadded base64url spelling of some byte string:
 * only alphabet characters, a possible length, and zero unused trailing bits.
 */
export function isCanonicalBase64Url(text: string): boolean {
  const length = text.length;
  if (length % 4 === 1 || !alphabetOnly.test(text)) return false;
  if (length === 0) return true;
  const last = sextetOf[text.charCodeAt(length - 1)] as number;
  if (length % 4 === 2) return (last & 0b1111) === 0;
  if (length % 4 === 3) return (last & 0b11) === 0;
  return true;
}

/**
 * Decodes canonical unpadded base64url, or returns `undefined` for any other input
 * (padding, whitespace, `+`/`/`, stray characters, non-zero trailing bits).
 *
 * @example
 * ```ts
 * decodeBase64Url('-_8'); // Uint8Array [251, 255]
 * decodeBase64Url('-_9'); // undefined: same bytes, non-canonical spelling
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!isCanonicalBase64Url(text)) return undefined;
  if (NodeBufferClass) {
    const buffer = NodeBufferClass.from(text, 'base64url');
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const output = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let position = 0;
  for (let index = 0; index < text.length; index++) {
    buffer = (buffer << 6) | (sextetOf[text.charCodeAt(index)] as number);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      output[position++] = (buffer >> bits) & 0xff;
    }
  }
  return output;
}
