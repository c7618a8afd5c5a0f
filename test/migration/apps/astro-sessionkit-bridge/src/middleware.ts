// astro-sessionkit 0.1.33's "Set Up Your Session", import renamed: the app's own middleware, run
// before sessionkit's in bridge mode, registers the session with setSession(data, context).
import { defineMiddleware } from 'astro:middleware';
import { setSession } from 'sessionkit/server';
import { db } from './lib/db.ts';

export const onRequest = defineMiddleware(async (context, next) => {
  // Get session from wherever you store it
  // (cookies, Redis, database, etc.)
  const sessionId = context.cookies.get('session_id')?.value;

  if (sessionId) {
    const user = await db.getUserBySessionId(sessionId);

    // Set session for SessionKit to read during this request and persist
    // through Astro's session store.
    setSession(
      {
        userId: user.id,
        email: user.email,
        role: user.role,
        permissions: user.permissions,
      },
      context,
    );
  }

  return next();
});
