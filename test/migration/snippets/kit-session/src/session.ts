// src/session.ts
import {
  createCookieSessionStore,
  createEncryptSessionStoreMiddleware,
  createSessionManager,
  createSessionRequestFunction,
  createSessionResponseFunction,
  importRawKey,
  type SessionCookieOptions,
  type SessionManagerOptions,
} from 'sessionkit/compat/kit-session';

const cookieStore = createCookieSessionStore<{ userId?: string; theme?: string }>();

// Load the key from the environment: base64 of 32 random bytes (`openssl rand -base64 32`).
const base64Key = process.env.SESSION_SECRET_KEY_BASE64;
if (!base64Key) throw new Error('SESSION_SECRET_KEY_BASE64 is not set!');

const cryptoKey = await importRawKey(base64Key);

// The cookie store is always encrypted; the middleware is where its key comes from.
const encryptMiddleware = createEncryptSessionStoreMiddleware(cryptoKey, { encryptValues: true });
const secureCookieStore = encryptMiddleware(cookieStore);

const cookieOptions: SessionCookieOptions = {
  name: '__Host-Session',
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'lax',
  maxAge: 60 * 60 * 24 * 7, // absolute lifetime: 1 week (idle timeout: 24 hours by default)
};

const managerOptions: SessionManagerOptions = {
  name: 'myAppSession', // the context property that holds the session
  cookie: cookieOptions,
  storage: secureCookieStore,
};

export const sessionManager = createSessionManager(managerOptions);

export const loadSession = createSessionRequestFunction(sessionManager);
export const saveSession = createSessionResponseFunction(sessionManager);
