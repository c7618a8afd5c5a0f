/**
 * Encryption at rest for any store (the store-middleware idea of kit-session): each data value,
 * flash value, user agent and ip is sealed separately with AES-256-GCM under the key ring's
 * `store-at-rest` subkey, bound to the session id and the key name, so per-key patches keep
 * working, and a value copied to another session or key no longer opens.
 *
 * What stays readable, because the store needs it: the session id, the secret's hash (already a
 * one-way digest), the user id (the index), and the times (expiry, TTL, listing).
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import { configError } from '../core/errors.ts';
import type { KeyRing } from '../core/keyring.ts';
import { assertOptionsObject } from '../core/options.ts';
import { createSealer } from '../core/seal.ts';
import {
  defineOwn,
  type SessionMetadata,
  type SessionPatch,
  type SessionStore,
  type StoredSession,
  StoredSessionUnreadable,
} from '../core/store.ts';

/** Options of {@link encryptStore}. */
export interface EncryptStoreOptions {
  /** The key ring: usually `manager.keyRing`, or `createKeyRing(secrets)`. Rotation works as for cookies. */
  keyRing: KeyRing;
  /** AES-GCM engine (default `auto`). */
  engine?: CryptoEngine;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Wraps a store so values are encrypted at rest.
 *
 * @example
 * ```ts
 * const keyRing = createKeyRing(process.env.SESSION_SECRET!);
 * const store = encryptStore(postgresStore({ pool }), { keyRing });
 * const sessions = createSessionManager({ secrets: keyRing, store });
 * ```
 */
export function encryptStore<Store extends SessionStore>(store: Store, options: EncryptStoreOptions): Store {
  assertOptionsObject(options, ['keyRing', 'engine'], 'encryptStore()');
  if (typeof options?.keyRing?.derive !== 'function') {
    throw configError(
      'encryptStore(): "keyRing" is required.',
      'Pass `keyRing: manager.keyRing` or createKeyRing(secret).',
    );
  }
  const sealer = createSealer(options.keyRing, 'store-at-rest', { engine: options.engine ?? 'auto' });

  const seal = (value: unknown, context: string): Promise<string> =>
    sealer.seal(encoder.encode(JSON.stringify(value) ?? 'null'), context);
  const open = async (value: unknown, context: string): Promise<unknown> => {
    if (typeof value !== 'string') throw new StoredSessionUnreadable('tampered');
    const opened = await sealer.unseal(value, context);
    if (!opened.ok) throw new StoredSessionUnreadable(opened.reason === 'unknown_key' ? 'unknown_key' : 'tampered');
    return JSON.parse(decoder.decode(opened.plaintext));
  };
  const mapValues = async (
    values: Readonly<Record<string, unknown>>,
    map: (value: unknown, key: string) => Promise<unknown>,
  ): Promise<Record<string, unknown>> => {
    const keys = Object.keys(values);
    const mapped = await Promise.all(keys.map((key) => map(values[key], key)));
    const result: Record<string, unknown> = {};
    for (const [index, key] of keys.entries()) defineOwn(result, key, mapped[index]);
    return result;
  };
  const sealMetadata = async (id: string, metadata: SessionMetadata): Promise<SessionMetadata> => ({
    ...(metadata.userAgent === undefined ? {} : { userAgent: await seal(metadata.userAgent, `${id}/m/ua`) }),
    ...(metadata.ip === undefined ? {} : { ip: await seal(metadata.ip, `${id}/m/ip`) }),
  });
  const openMetadata = async (id: string, metadata: SessionMetadata): Promise<SessionMetadata> => {
    const tryOpen = (value: string, context: string) => open(value, context).catch(() => undefined);
    const userAgent = metadata.userAgent === undefined ? undefined : await tryOpen(metadata.userAgent, `${id}/m/ua`);
    const ip = metadata.ip === undefined ? undefined : await tryOpen(metadata.ip, `${id}/m/ip`);
    return {
      ...(typeof userAgent === 'string' ? { userAgent } : {}),
      ...(typeof ip === 'string' ? { ip } : {}),
    };
  };

  const wrapped: SessionStore = {
    name: `encrypted(${store.name})`,
    capabilities: store.capabilities,
    async get(id) {
      const session = await store.get(id);
      if (session === undefined) return undefined;
      const { userAgent, ip, ...rest } = session;
      return {
        ...rest,
        ...(await openMetadata(id, { userAgent, ip } as SessionMetadata)),
        data: await mapValues(session.data, (value, key) => open(value, `${id}/d/${key}`)),
        flash: await mapValues(session.flash, (value, key) => open(value, `${id}/f/${key}`)),
      };
    },
    async create(session, createOptions) {
      const { userAgent, ip, ...rest } = session;
      const sealed: StoredSession = {
        ...rest,
        ...(await sealMetadata(session.id, { userAgent, ip } as SessionMetadata)),
        data: await mapValues(session.data, (value, key) => seal(value, `${session.id}/d/${key}`)),
        flash: await mapValues(session.flash, (value, key) => seal(value, `${session.id}/f/${key}`)),
      };
      return store.create(sealed, createOptions);
    },
    async patch(id, patch) {
      const sealed: SessionPatch = {
        ...patch,
        setData: await mapValues(patch.setData, (value, key) => seal(value, `${id}/d/${key}`)),
        setFlash: await mapValues(patch.setFlash, (value, key) => seal(value, `${id}/f/${key}`)),
        ...(patch.metadata === undefined ? {} : { metadata: await sealMetadata(id, patch.metadata) }),
      };
      return store.patch(id, sealed);
    },
    delete: (id) => store.delete(id),
    async listByUser(userId, nowSeconds) {
      const rows = await store.listByUser(userId, nowSeconds);
      return Promise.all(
        rows.map(async ({ userAgent, ip, ...row }) => ({
          ...row,
          ...(await openMetadata(row.id, { userAgent, ip } as SessionMetadata)),
        })),
      );
    },
    deleteByUser: (userId, exceptId) => store.deleteByUser(userId, exceptId),
    ...(store.sweep === undefined ? {} : { sweep: (nowSeconds: number) => store.sweep!(nowSeconds) }),
  };
  // Keep the wrapped store's extras (e.g. `database`, `dump()`), with the encrypting methods on top.
  return Object.assign(Object.create(store) as Store, wrapped);
}
