// src/session.ts
import { createCookieSessionStorage } from 'sessionkit';

export type User = { id: string; email: string };

// the shape of your session data
export type SessionData = {
  count: number;
  user: User | null;
};

export const { getSession, commitSession, destroySession } = createCookieSessionStorage<SessionData>(
  { count: 0, user: null }, // the data of a new session (cloned for every session)
  {
    cookie: {
      name: '__session-id',
      path: '/',
      secret: process.env.SESSION_SECRET!, // required: 32+ random bytes, `openssl rand -base64 32`
    },
  },
);
