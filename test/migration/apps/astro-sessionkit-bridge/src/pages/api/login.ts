// The README's "Register Sessions After Authentication", import renamed; the app keeps its own
// session_id cookie and session table (bridge mode).
import type { APIRoute } from 'astro';
import { setSession } from 'sessionkit/server';
import { db } from '../../lib/db.ts';

export const POST: APIRoute = async (context) => {
  const { email, password, ttl } = await context.request.json();

  // Verify credentials (YOUR authentication logic)
  const user = password === 'correct horse' ? await db.findUserByEmail(email) : undefined;

  if (user) {
    // Register session with SessionKit (a ttl when the request asks for one)
    setSession(
      {
        userId: user.id,
        email: user.email,
        role: user.role,
        permissions: user.permissions,
      },
      context,
      ttl === undefined ? undefined : { ttl },
    );

    // Store session ID (YOUR storage logic), unless the client asked for the Astro session only
    if (ttl === undefined) {
      const sessionId = await db.createSession(user.id);
      context.cookies.set('session_id', sessionId, {
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
        maxAge: 60 * 60 * 24 * 7, // 7 days
      });
    }

    return new Response(JSON.stringify({ success: true }));
  }

  return new Response(JSON.stringify({ error: 'Invalid credentials' }), {
    status: 401,
  });
};
