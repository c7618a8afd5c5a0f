import { createHash } from 'node:crypto';
import { parseSetCookie } from 'cookie';
import { describe, expect, it } from 'vitest';
import { CookieJar, testSecrets } from '../../test/support/fixtures.ts';
import { isSessionKitError, type SessionKitErrorCode } from '../core/errors.ts';
import { SessionHandle } from '../core/session.ts';
import { memoryStore } from '../stores/memory.ts';
import {
  createCookieSessionStore,
  createEncryptSessionStoreMiddleware,
  createSessionManager,
  createSessionRequestFunction,
  createSessionResponseFunction,
  importRawKey,
  type SessionManager,
} from './kit-session.ts';

/** 32 random-looking bytes, base64 (test-only). Not the bytes of text: those carry fewer bits. */
const base64Key = createHash('sha256').update(testSecrets[0]).digest('base64');

function expectCode(run: () => unknown, code: SessionKitErrorCode): void {
  try {
    run();
  } catch (error) {
    expect(isSessionKitError(error, code), String(error)).toBe(true);
    return;
  }
  throw new Error(`expected ${code}`);
}

async function expectCodeAsync(run: () => Promise<unknown>, code: SessionKitErrorCode): Promise<void> {
  await expect(run()).rejects.toSatisfy((error) => isSessionKitError(error, code));
}

async function encryptedCookieManager(extra: { maxAge?: number } = {}): Promise<SessionManager> {
  const key = await importRawKey(base64Key);
  const storage = createEncryptSessionStoreMiddleware(key, { encryptValues: true })(createCookieSessionStore());
  return createSessionManager({
    name: 'myAppSession',
    cookie: { name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax', ...extra },
    storage,
  });
}

/** One request through extract → handler → inject, like kit-http's before/after functions. */
async function roundTrip(
  manager: SessionManager,
  jar: CookieJar,
  handler: (context: Record<string, unknown>) => void,
): Promise<{ setCookies: string[]; context: Record<string, unknown> }> {
  const context: Record<string, unknown> = {};
  await manager.extractSession(context, new Request('https://app.test/', { headers: { cookie: jar.header() } }));
  handler(context);
  const headers = new Headers();
  const setCookies = await manager.injectSession(context, headers);
  expect(headers.getSetCookie()).toEqual(setCookies);
  jar.apply(setCookies);
  return { setCookies, context };
}

describe('importRawKey', () => {
  it('accepts a base64 or base64url 32-byte key and hides its bytes', async () => {
    const key = await importRawKey(base64Key);
    expect(key).toEqual({ kind: 'sessionkit-raw-key', byteLength: 32 });
    expect(JSON.stringify(key)).not.toContain(base64Key.slice(0, 8));
    const urlSafe = base64Key.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    await expect(importRawKey(urlSafe)).resolves.toMatchObject({ byteLength: 32 });
  });

  it('refuses AES-128/192 keys, non-random keys and non-base64 text', async () => {
    await expectCodeAsync(() => importRawKey(Buffer.alloc(16, 7).toString('base64')), 'ERR_SECRET_WEAK');
    await expectCodeAsync(
      () => importRawKey(Buffer.from(testSecrets[1]).subarray(0, 24).toString('base64')),
      'ERR_SECRET_WEAK',
    );
    await expectCodeAsync(() => importRawKey(Buffer.alloc(32, 1).toString('base64')), 'ERR_SECRET_WEAK');
    await expectCodeAsync(() => importRawKey('not base64 at all!'), 'ERR_CONFIG_INVALID');
    await expectCodeAsync(() => importRawKey(undefined as unknown as string), 'ERR_CONFIG_INVALID');
  });
});

describe('createSessionManager (kit-session shapes)', () => {
  it('round-trips values through an encrypted cookie and tracks modification', async () => {
    const manager = await encryptedCookieManager();
    const jar = new CookieJar();
    const first = await roundTrip(manager, jar, (context) => {
      expect(manager.getValue(context, 'counter')).toBeUndefined();
      expect(manager.isModified(context)).toBe(false);
      manager.setValue(context, 'counter', 1);
      manager.setValue(context, 'userId', 'u_secret_42');
      expect(manager.isModified(context)).toBe(true);
    });
    expect(first.setCookies).toHaveLength(1);
    const cookie = parseSetCookie(first.setCookies[0]!);
    expect(cookie).toMatchObject({ name: '__Host-Session', httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
    expect(cookie.value).toMatch(/^v1\./);
    expect(cookie.value).not.toContain('u_secret_42');
    expect(Buffer.from(cookie.value!.slice(3), 'base64url').toString('latin1')).not.toContain('u_secret_42');
    expect(first.context.myAppSession).toBeInstanceOf(SessionHandle);

    const second = await roundTrip(manager, jar, (context) => {
      expect(manager.getValue<number>(context, 'counter')).toBe(1);
      expect(manager.isModified(context)).toBe(false);
    });
    expect(second.setCookies).toEqual([]);

    await roundTrip(manager, jar, (context) => {
      manager.setValue(context, 'counter', (manager.getValue<number>(context, 'counter') ?? 0) + 1);
      manager.unsetValue(context, 'userId');
    });
    await roundTrip(manager, jar, (context) => {
      expect(manager.getValue(context, 'counter')).toBe(2);
      expect(manager.getValue(context, 'userId')).toBeUndefined();
    });
  });

  it('rejects a tampered cookie as a fresh, empty session', async () => {
    const manager = await encryptedCookieManager();
    const jar = new CookieJar();
    await roundTrip(manager, jar, (context) => manager.setValue(context, 'role', 'user'));
    const value = jar.get('__Host-Session')!;
    const flipped = `${value.slice(0, -2)}${value.at(-2) === 'A' ? 'B' : 'A'}${value.at(-1)}`;
    const tampered = new CookieJar().apply([`__Host-Session=${flipped}; Path=/`]);
    await roundTrip(manager, tampered, (context) => {
      expect(manager.getValue(context, 'role')).toBeUndefined();
      expect(manager.getSession(context).isNew).toBe(true);
    });
  });

  it('destroyValues deletes the cookie; writing to the destroyed session throws', async () => {
    const manager = await encryptedCookieManager();
    const jar = new CookieJar();
    await roundTrip(manager, jar, (context) => manager.setValue(context, 'userId', 'u1'));
    const { setCookies } = await roundTrip(manager, jar, (context) => {
      manager.destroyValues(context);
      expect(manager.isModified(context)).toBe(true);
      expect(manager.getValue(context, 'userId')).toBeUndefined();
      manager.unsetValue(context, 'userId'); // harmless
      expectCode(() => manager.setValue(context, 'userId', 'u2'), 'ERR_SESSION_DESTROYED');
    });
    expect(parseSetCookie(setCookies[0]!).maxAge).toBe(0);
    expect(jar.names()).toEqual([]);
  });

  it('regenerate issues a new session id and keeps the values', async () => {
    const manager = await encryptedCookieManager();
    const jar = new CookieJar();
    const first = await roundTrip(manager, jar, (context) => manager.setValue(context, 'theme', 'dark'));
    const firstId = manager.getSession(first.context).id;
    const second = await roundTrip(manager, jar, (context) => manager.regenerate(context));
    expect(manager.getSession(second.context).id).not.toBe(firstId);
    await roundTrip(manager, jar, (context) => expect(manager.getValue(context, 'theme')).toBe('dark'));
  });

  it('cookie.maxAge becomes the absolute lifetime; the idle timeout never exceeds it', async () => {
    const manager = await encryptedCookieManager({ maxAge: 3600 });
    const { setCookies } = await roundTrip(manager, new CookieJar(), (context) => manager.setValue(context, 'a', 1));
    expect(parseSetCookie(setCookies[0]!).maxAge).toBe(3600);
    const week = await encryptedCookieManager({ maxAge: 7 * 24 * 3600 });
    const long = await roundTrip(week, new CookieJar(), (context) => week.setValue(context, 'a', 1));
    expect(parseSetCookie(long.setCookies[0]!).maxAge).toBe(24 * 3600);
  });

  it('the cookie store without the middleware is still encrypted, with `secrets`', async () => {
    const manager = createSessionManager({
      name: 'session',
      cookie: { name: 'sid', secure: false, sameSite: 'Strict' },
      storage: createCookieSessionStore<{ userId?: string }>(),
      secrets: testSecrets[1],
    });
    const { setCookies } = await roundTrip(manager, new CookieJar(), (context) =>
      manager.setValue(context, 'userId', 'visible?'),
    );
    const cookie = parseSetCookie(setCookies[0]!);
    expect(cookie).toMatchObject({ name: 'sid', sameSite: 'strict', httpOnly: true });
    expect(cookie.secure).toBeFalsy();
    expect(cookie.value).toMatch(/^v1\./);
  });

  it('refuses configurations whose kit-session meaning cannot be kept', async () => {
    const key = await importRawKey(base64Key);
    const storage = createCookieSessionStore();
    // no key anywhere: kit-session would have written a plain cookie
    expectCode(() => createSessionManager({ name: 's', storage }), 'ERR_CONFIG_INVALID');
    // key in two places
    expectCode(
      () =>
        createSessionManager({
          name: 's',
          storage: createEncryptSessionStoreMiddleware(key)(storage),
          secrets: testSecrets[0],
        }),
      'ERR_CONFIG_INVALID',
    );
    expectCode(
      () => createSessionManager({ name: 's', storage, secrets: testSecrets[0], cookie: { httpOnly: false } }),
      'ERR_CONFIG_INVALID',
    );
    expectCode(
      () =>
        createSessionManager({
          name: 's',
          storage,
          secrets: testSecrets[0],
          cookie: { maxAge: 60 },
          expiry: { absoluteTimeoutSeconds: 60 },
        }),
      'ERR_CONFIG_INVALID',
    );
    expectCode(() => createSessionManager({ name: '', storage, secrets: testSecrets[0] }), 'ERR_CONFIG_INVALID');
    expectCode(
      () => createSessionManager({ name: 's', storage: { getSession() {} } as never, secrets: testSecrets[0] }),
      'ERR_CONFIG_INVALID',
    );
    expectCode(
      () => createSessionManager({ name: 's', storage, secrets: testSecrets[0], cookie: { expires: 1 } as never }),
      'ERR_CONFIG_INVALID',
    );
    expectCode(() => createEncryptSessionStoreMiddleware({} as never), 'ERR_CONFIG_INVALID');
    const encrypt = createEncryptSessionStoreMiddleware(key);
    expectCode(() => encrypt(encrypt(storage)), 'ERR_CONFIG_INVALID');
  });

  it('calls before extractSession fail with ERR_NO_CONTEXT', async () => {
    const manager = await encryptedCookieManager();
    expectCode(() => manager.getValue({}, 'x'), 'ERR_NO_CONTEXT');
    expectCode(() => manager.setValue({}, 'x', 1), 'ERR_NO_CONTEXT');
    await expectCodeAsync(() => manager.injectSession({}, new Headers()), 'ERR_NO_CONTEXT');
  });

  it('a sessionkit store: the cookie holds a token, values encrypted at rest only with encryptValues', async () => {
    for (const encryptValues of [true, false]) {
      const store = memoryStore();
      const key = await importRawKey(base64Key);
      const manager = createSessionManager({
        name: 'session',
        storage: createEncryptSessionStoreMiddleware(key, { encryptValues })(store),
      });
      const jar = new CookieJar();
      await roundTrip(manager, jar, (context) => manager.setValue(context, 'email', 'ada@example.com'));
      expect(store.size).toBe(1);
      expect(store.dump().includes('ada@example.com')).toBe(!encryptValues);
      expect(jar.get('__Host-session')).not.toContain('ada');
      await roundTrip(manager, jar, (context) => expect(manager.getValue(context, 'email')).toBe('ada@example.com'));
    }
    // a bare sessionkit store with secrets works too
    const plain = createSessionManager({ name: 'session', storage: memoryStore(), secrets: testSecrets[2] });
    await roundTrip(plain, new CookieJar(), (context) => plain.setValue(context, 'a', 1));
  });

  it('request and response functions wrap extractSession and injectSession', async () => {
    const manager = await encryptedCookieManager();
    const loadSession = createSessionRequestFunction(manager);
    const saveSession = createSessionResponseFunction(manager);
    const context = { requestId: 'r1' };
    const returned = await loadSession(context, new Request('https://app.test/'));
    expect(returned).toBe(context);
    manager.setValue(context, 'flash', { type: 'error', message: 'Please log in' });
    const response = new Response('ok');
    const lines = await saveSession(context, response);
    expect(lines).toHaveLength(1);
    expect(response.headers.getSetCookie()).toEqual(lines);
  });
});
