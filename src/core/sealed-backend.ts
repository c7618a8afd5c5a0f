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

function decodePayload(bytes: Uint8Array): Payload | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
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
  return {
    kind: 'cookie',
    async read(cookieValue): Promise<BackendReadResult<Data, Flash>> {
      const opened = await sealer.unseal(cookieValue, context);
      if (!opened.ok) return { ok: false, reason: opened.reason };
      const payload = decodePayload(opened.plaintext);
      if (payload === undefined) return { ok: false, reason: 'malformed' };
      const record: SessionRecord<Data, Flash> = {
        id: payload[0],
        createdAt: payload[1],
        renewedAt: payload[2],
        expiresAt: payload[3],
        data: payload[4] as Data,
        flash: (payload[5] ?? {}) as Partial<Flash>,
      };
      return { ok: true, record, reissue: opened.keyIndex > 0 };
    },
    async write(record) {
      const payload: Payload = [record.id, record.createdAt, record.renewedAt, record.expiresAt, record.data];
      if (Object.keys(record.flash).length > 0) payload.push(record.flash as SessionData);
      return { cookieValue: await sealer.seal(encoder.encode(JSON.stringify(payload)), context) };
    },
    async remove() {},
  };
}
