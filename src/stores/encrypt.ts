/**
 * Encryption at rest for any store (the store-middleware idea of kit-session): each data value,
 * flash value, user agent and ip is sealed separately with AES-256-GCM under the key ring's
 * `store-at-rest` subkey, bound to the session id and the key name, so per-key patches keep
 * working, and a value copied to another session or key no longer opens.
 *
 * The user index holds a keyed hash of the user id (HMAC-SHA256 under the `store-user-index`
 * subkey), not the id: the store can still list and delete a user's sessions by it, and whoever
 * reads the store cannot tell whose sessions they are without the secret. After a key rotation,
 * listing and revocation look a user up under every key of the ring (and under the clear id, for
 * rows written before the index was hashed).
 *
 * What stays readable, because the store needs it: the session id, the secret's hash (already a
 * one-way digest), the times (expiry, TTL, listing), and which rows share a user (equal hashes).
 *
 * @module
 */
import type { CryptoEngine } from '../core/aead.ts';
import { encodeBase64Url } from '../core/base64url.ts';
import { engineFor, type MacKey } from '../core/crypto-engine.ts';
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
  type StoredSessionInfo,
  StoredSessionsPartlyDeleted,
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
  const engine = options.engine ?? 'auto';
  const sealer = createSealer(options.keyRing, 'store-at-rest', { engine });
  const indexKeys: Promise<readonly MacKey[]> = options.keyRing
    .derive('store-user-index')
    .then((keys) => keys.map((key) => engineFor(engine).macKey(key.material)));
  // A failed derivation is reported by the first store call that needs it, not as an unhandled rejection.
  indexKeys.catch(() => {});

  /** The keyed hash of a user id under each key of the ring, newest first. */
  const indexHashes = async (userId: string): Promise<string[]> => {
    const keys = await indexKeys;
    const data = encoder.encode(userId);
    return Promise.all(keys.map(async (key) => encodeBase64Url(await key.sign(data))));
  };
  /** The hash a new index entry is written under: the newest key's. */
  const indexHash = async (userId: string): Promise<string> => (await indexHashes(userId))[0] as string;
  /** Every value a user's rows may be indexed under: each key's hash, then the clear id (rows written before hashing). */
  const indexLookups = async (userId: string): Promise<string[]> => [...new Set(await indexHashes(userId)), userId];
  /**
   * The clear user id of a row whose index holds `stored`: the data value it is the hash of (the
   * store backend compares it with the data's user id), or `stored` itself for a row written
   * before hashing.
   */
  const clearUserIdOf = async (
    stored: string,
    data: Readonly<Record<string, unknown>>,
  ): Promise<string | undefined> => {
    const candidates = Object.values(data).filter((value): value is string => typeof value === 'string');
    if (candidates.includes(stored)) return stored;
    for (const candidate of candidates) {
      if ((await indexHashes(candidate)).includes(stored)) return candidate;
    }
    return undefined;
  };

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
      const data = await mapValues(session.data, (value, key) => open(value, `${id}/d/${key}`));
      return {
        ...rest,
        userId: session.userId === undefined ? undefined : await clearUserIdOf(session.userId, data),
        ...(await openMetadata(id, { userAgent, ip } as SessionMetadata)),
        data,
        flash: await mapValues(session.flash, (value, key) => open(value, `${id}/f/${key}`)),
      };
    },
    async create(session, createOptions) {
      const { userAgent, ip, ...rest } = session;
      const sealed: StoredSession = {
        ...rest,
        userId: session.userId === undefined ? undefined : await indexHash(session.userId),
        ...(await sealMetadata(session.id, { userAgent, ip } as SessionMetadata)),
        data: await mapValues(session.data, (value, key) => seal(value, `${session.id}/d/${key}`)),
        flash: await mapValues(session.flash, (value, key) => seal(value, `${session.id}/f/${key}`)),
      };
      return store.create(sealed, createOptions);
    },
    async patch(id, patch) {
      const owner =
        patch.userId === undefined
          ? {}
          : {
              userId: patch.userId === null ? null : await indexHash(patch.userId),
              // The index entry to drop is the one the row holds now, under whichever key wrote it.
              previousUserId: patch.previousUserId === undefined ? undefined : (await store.get(id))?.userId,
            };
      const sealed: SessionPatch = {
        ...patch,
        ...owner,
        setData: await mapValues(patch.setData, (value, key) => seal(value, `${id}/d/${key}`)),
        setFlash: await mapValues(patch.setFlash, (value, key) => seal(value, `${id}/f/${key}`)),
        ...(patch.metadata === undefined ? {} : { metadata: await sealMetadata(id, patch.metadata) }),
      };
      return store.patch(id, sealed);
    },
    delete: (id) => store.delete(id),
    async listByUser(userId, nowSeconds) {
      const lookups = await indexLookups(userId);
      const found = await Promise.all(lookups.map((stored) => store.listByUser(stored, nowSeconds)));
      const rows = new Map<string, StoredSessionInfo>();
      for (const [index, list] of found.entries()) {
        for (const row of list) if (row.userId === lookups[index] && !rows.has(row.id)) rows.set(row.id, row);
      }
      const listed = await Promise.all(
        [...rows.values()].map(async ({ userAgent, ip, ...row }) => ({
          ...row,
          userId,
          ...(await openMetadata(row.id, { userAgent, ip } as SessionMetadata)),
        })),
      );
      return listed.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },
    async deleteByUser(userId, exceptId) {
      const lookups = await indexLookups(userId);
      // Every lookup runs to its end, so a failure in one still reports what the others deleted.
      const settled = await Promise.allSettled(lookups.map((stored) => store.deleteByUser(stored, exceptId)));
      const deleted = new Set<string>();
      let failure: unknown;
      for (const outcome of settled) {
        if (outcome.status === 'rejected') {
          failure ??= outcome.reason;
          if (outcome.reason instanceof StoredSessionsPartlyDeleted)
            for (const id of outcome.reason.deletedIds) deleted.add(id);
        } else for (const id of outcome.value) deleted.add(id);
      }
      if (failure !== undefined) {
        throw new StoredSessionsPartlyDeleted(
          [...deleted],
          failure instanceof StoredSessionsPartlyDeleted ? failure.cause : failure,
        );
      }
      return [...deleted];
    },
    ...(store.sweep === undefined ? {} : { sweep: (nowSeconds: number) => store.sweep!(nowSeconds) }),
  };
  // Keep the wrapped store's extras (e.g. `database`, `dump()`), with the encrypting methods on top.
  return Object.assign(Object.create(store) as Store, wrapped);
}
