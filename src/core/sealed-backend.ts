/**
 * The sealed-cookie backend: the whole record travels in the cookie, encrypted and
 * authenticated with AES-256-GCM under the key ring, bound to the cookie name.
 *
 * @module
 */
import type { BackendReadResult, SessionBackend } from './backend.ts';
import { defaultCookieCacheMaxEntries } from './cookie-cache.ts';
import { copyJsonValue } from './json-copy.ts';
import type { Sealer, UnsealResult } from './seal.ts';
import type { AnySessionData, SessionRecord } from './session.ts';

// Payload layout (JSON array, inside the seal): [id, createdAt, renewedAt, expiresAt, data, flash?]
type Payload = [string, number, number, number, AnySessionData, AnySessionData?];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(value: unknown): value is AnySessionData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
 * An authentic cookie value's plaintext. `parsed` is set by the first hit (which keeps what it
 * parsed); `payload` is filled (and checked) by the second, and copied from then on.
 */
interface OpenedValue {
  readonly text: string;
  readonly keyIndex: number;
  parsed?: boolean;
  payload?: Payload;
}

/** The record of a payload this request owns (parsed for it alone). */
function recordOf<Data extends AnySessionData, Flash extends AnySessionData>(
  payload: Payload,
): SessionRecord<Data, Flash> {
  return {
    id: payload[0],
    createdAt: payload[1],
    renewedAt: payload[2],
    expiresAt: payload[3],
    data: payload[4] as Data,
    flash: (payload[5] ?? {}) as Partial<Flash>,
  };
}

/**
 * The record of a remembered, checked payload, with its own deep copy of the data and flash: the
 * payload stays in the cache for the next request with the same cookie.
 */
function copiedRecordOf<Data extends AnySessionData, Flash extends AnySessionData>(
  payload: Payload,
  text: string,
): SessionRecord<Data, Flash> {
  try {
    return recordOf([
      payload[0],
      payload[1],
      payload[2],
      payload[3],
      copyJsonValue(payload[4]),
      copyJsonValue(payload[5] ?? {}),
    ]);
  } catch {
    // Nested deeper than the stack allows: parse the text again instead (JSON.parse does not recurse).
    return recordOf(JSON.parse(text) as Payload);
  }
}

/** @internal The sealed backend, with its remembered cookies readable without waiting (for the manager). */
export interface SealedBackend<Data extends AnySessionData, Flash extends AnySessionData>
  extends SessionBackend<Data, Flash> {
  /**
   * The record of a cookie value without waiting: one opened (or sealed) before, or one the
   * sealer opens synchronously (`node:crypto`); `undefined` when it must be opened with `read`.
   */
  readNow(cookieValue: string): BackendReadResult<Data, Flash> | undefined;
}

/**
 * Creates the sealed-cookie backend.
 *
 * It remembers up to `maxEntries` recently opened or written cookie values. A browser sends the
 * same cookie value on every request until it changes, so remembering the authenticated payload
 * of an exact value saves the AES-GCM operation and the JSON parse on repeat requests, and lets
 * them load synchronously. Only values that authenticated (or that this process sealed) are kept;
 * expiry is still checked on every request (by the manager, from the payload), and each hit gets
 * its own deep copy of the data, so nothing is shared between requests.
 *
 * @param sealer - a sealer for the `cookie` purpose
 * @param context - the associated-data context (the cookie name)
 * @param maxEntries - how many cookie values to remember (`cookieCache.maxEntries`); 0 remembers none
 */
export function createSealedBackend<Data extends AnySessionData, Flash extends AnySessionData>(
  sealer: Sealer,
  context: string,
  maxEntries: number = defaultCookieCacheMaxEntries,
): SealedBackend<Data, Flash> {
  // Evicted oldest-inserted first: a hit does not reorder (a changed session is re-inserted when
  // written, and an unchanged one costs one AES-GCM operation again after eviction). The order
  // is a ring of keys, not the Map's own: finding a Map's first key walks over the slots its
  // deletions left, which cost more than the AES-GCM operation the cache saves.
  const opened = new Map<string, OpenedValue>();
  const order: string[] = [];
  let oldest = 0;
  const remember = (cookieValue: string, entry: OpenedValue): void => {
    if (maxEntries === 0) return;
    if (!opened.has(cookieValue)) {
      if (order.length < maxEntries) order.push(cookieValue);
      else {
        opened.delete(order[oldest] as string);
        order[oldest] = cookieValue;
        oldest = (oldest + 1) % maxEntries;
      }
    }
    opened.set(cookieValue, entry);
  };
  const fromEntry = (cookieValue: string, entry: OpenedValue): BackendReadResult<Data, Flash> => {
    const reissue = entry.keyIndex > 0;
    if (entry.payload !== undefined) return { ok: true, record: copiedRecordOf(entry.payload, entry.text), reissue };
    const payload = decodePayload(entry.text);
    if (payload === undefined) {
      opened.delete(cookieValue);
      return { ok: false, reason: 'malformed' };
    }
    // The first hit owns what it parsed (a value changed on every request is read once, so it
    // is never copied); a value read again keeps its parsed payload and hands out copies.
    if (!entry.parsed) {
      entry.parsed = true;
      return { ok: true, record: recordOf(payload), reissue };
    }
    entry.payload = payload;
    return { ok: true, record: copiedRecordOf(payload, entry.text), reissue };
  };
  /** The record of a freshly opened cookie value (remembered for the next request), or why it failed. */
  const readOpened = (cookieValue: string, result: UnsealResult): BackendReadResult<Data, Flash> => {
    if (!result.ok) return { ok: false, reason: result.reason };
    let text: string;
    try {
      text = decoder.decode(result.plaintext);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    // This request owns the freshly parsed payload; the cache keeps only the text (as if this
    // were its first hit), so the unseen-cookie path makes no deep copy.
    const payload = decodePayload(text);
    if (payload === undefined) return { ok: false, reason: 'malformed' };
    remember(cookieValue, { text, keyIndex: result.keyIndex, parsed: true });
    return { ok: true, record: recordOf(payload), reissue: result.keyIndex > 0 };
  };

  const readNow = (cookieValue: string): BackendReadResult<Data, Flash> | undefined => {
    const known = maxEntries === 0 ? undefined : opened.get(cookieValue);
    if (known !== undefined) return fromEntry(cookieValue, known);
    const unsealed = sealer.unsealNow(cookieValue, context);
    return unsealed === undefined ? undefined : readOpened(cookieValue, unsealed);
  };

  return {
    kind: 'cookie',
    readNow,
    async read(cookieValue) {
      return readNow(cookieValue) ?? readOpened(cookieValue, await sealer.unseal(cookieValue, context));
    },
    async write(record) {
      const payload: Payload = [record.id, record.createdAt, record.renewedAt, record.expiresAt, record.data];
      if (Object.keys(record.flash).length > 0) payload.push(record.flash as AnySessionData);
      const text = JSON.stringify(payload);
      const cookieValue = await sealer.seal(encoder.encode(text), context);
      // The browser sends this value back next: it is authentic by construction.
      remember(cookieValue, { text, keyIndex: 0 });
      return { cookieValue };
    },
    async remove() {},
  };
}
