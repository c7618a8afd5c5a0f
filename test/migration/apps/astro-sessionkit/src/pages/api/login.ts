// The README's "Register Sessions After Authentication", migrated: the import renamed, and the
// session_id cookie and database row gone (sessionkit keeps the session).
import type { APIRoute } from 'astro';
import { setSession } from 'sessionkit/server';
import { verifyCredentials } from '../../lib/users.ts';

export const POST: APIRoute = async (context) => {
  const { email, password } = await context.request.json();

  // Verify credentials (YOUR authentication logic)
  const user = await verifyCredentials(email, password);

  if (user) {
    // Register session with SessionKit
    setSession(
      {
        userId: user.id,
        email: user.email,
        role: user.role,
        permissions: user.permissions,
        subscription: user.subscription,
        banned: user.banned,
      },
      context,
    );

    return new Response(JSON.stringify({ success: true }));
  }

  return new Response(JSON.stringify({ error: 'Invalid credentials' }), {
    status: 401,
  });
};
