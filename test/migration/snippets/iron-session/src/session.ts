// src/session.ts
import { createCookieSessionStorage } from 'sessionkit';

export type SessionData = { username?: string; isLoggedIn?: boolean };

export const sessionStorage = createCookieSessionStorage<SessionData>({
  cookie: {
    name: '__Host-myapp_session',
    // iron-session's password map { 2: newest, 1: older } becomes a list, newest first
    secrets: process.env.SESSION_SECRETS!.split(','),
  },
  // iron-session's ttl (14 days), now checked inside the token, plus an idle timeout
  expiry: { absoluteTimeoutSeconds: 14 * 24 * 60 * 60, idleTimeoutSeconds: 24 * 60 * 60 },
});
