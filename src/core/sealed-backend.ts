/**
 * The sealed-cookie backend: the whole record travels in the cookie, encrypted and
 * authenticated with AES-256-GCM under the key ring, bound to the cookie name.
 *
 * @module
 */
import type { BackendReadResult, SessionBackend } from './backend.ts';
import type { Sealer } from './seal.ts';
import type { SessionData, SessionRecord } from './session.ts';

// Payload layout (JSON array, inside the seal): [id, createdAt, renewedAt, expiresAt, data, flash?]
type Payload = [string, number, number, number, SessionData, SessionData?];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(value: unknown): value is SessionData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How many recently opened or written cookie values are remembered, per backend. A browser sends
 * the same cookie value on every request until it changes, so remembering the authenticated
 * plaintext of an exact value saves the AES-GCM operation on repeat requests. Only values that
 * authenticated (or that this process sealed) are kept; expiry is still checked on every request
 * (by the manager, from the payload), and each hit parses a fresh copy, so no data is shared
 * between requests.
 */
export const openedCookieCacheSize = 2048;

function decodePayload(text: string): Payload | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length < 5 || parsed.length > 6) return undefined;
  const [id, createdAt, renewedAt, expiresAt, data, flash] = parsed;
  if (typeof id !== 'string' || !Number.isInteger(createdAt) || !Number.isInteger(renewedAt)) return undefined;
  if (!Number.isInteger(expiresAt) || !isPlainObject(data)) return undefined;
  if (flash !== undefined && !isPlainObject(flash)) return undefined;
  return parsed as Payload;
}

/**
 * Creates the sealed-cookie backend.
 *
 * @param sealer - a sealer for the `cookie` purpose
 * @param context - the associated-data context (the cookie name)
 */
export function createSealedBackend<Data extends SessionData, Flash extends SessionData>(
  sealer: Sealer,
  context: string,
): SessionBackend<Data, Flash> {
  // Oldest first (Map insertion order).
  const opened = new Map<string, { readonly text: string; readonly keyIndex: number }>();
  const remember = (cookieValue: string, entry: { readonly text: string; readonly keyIndex: number }) => {
    opened.set(cookieValue, entry);
    if (opened.size > openedCookieCacheSize) opened.delete(opened.keys().next().value as string);
    return entry;
  };
  const open = async (cookieValue: string) => {
    // Evicted oldest-inserted first: a hit does not reorder (a changed session is re-inserted
    // when written, and an unchanged one costs one AES-GCM operation again after eviction).
    const known = opened.get(cookieValue);
    if (known !== undefined) return known;
    const result = await sealer.unseal(cookieValue, context);
    if (!result.ok) return result.reason;
    let text: string;
    try {
      text = decoder.decode(result.plaintext);
    } catch {
      return 'malformed' as const;
    }
    return remember(cookieValue, { text, keyIndex: result.keyIndex });
  };

  return {
    kind: 'cookie',
    async read(cookieValue): Promise<BackendReadResult<Data, Flash>> {
      const entry = await open(cookieValue);
      if (typeof entry === 'string') return { ok: false, reason: entry };
      const payload = decodePayload(entry.text);
      if (payload === undefined) return { ok: false, reason: 'malformed' };
      const record: SessionRecord<Data, Flash> = {
        id: payload[0],
        createdAt: payload[1],
        renewedAt: payload[2],
        expiresAt: payload[3],
        data: payload[4] as Data,
        flash: (payload[5] ?? {}) as Partial<Flash>,
      };
      return { ok: true, record, reissue: entry.keyIndex > 0 };
    },
    async write(record) {
      const payload: Payload = [record.id, record.createdAt, record.renewedAt, record.expiresAt, record.data];
      if (Object.keys(record.flash).length > 0) payload.push(record.flash as SessionData);
      const text = JSON.stringify(payload);
      const cookieValue = await sealer.seal(encoder.encode(text), context);
      // The browser sends this value back next: it is authentic by construction.
      remember(cookieValue, { text, keyIndex: 0 });
      return { cookieValue };
    },
    async remove() {},
  };
}
