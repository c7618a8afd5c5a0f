// The README's "Complete Authentication Flow", migrated: steps 2 and 4 (the session row and the
// session_id cookie) are sessionkit's job now.
import type { APIRoute } from 'astro';
import { setSession } from 'sessionkit/server';
import { verifyCredentials } from '../../../lib/users.ts';

export const POST: APIRoute = async (context) => {
  const { email, password } = await context.request.json();

  // 1. Verify credentials
  const user = await verifyCredentials(email, password);
  if (!user) {
    return new Response(JSON.stringify({ error: 'Invalid credentials' }), {
      status: 401,
    });
  }

  // 3. Register with SessionKit
  await setSession(
    {
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions,
    },
    context,
  );

  return new Response(
    JSON.stringify({
      success: true,
      user: { email: user.email, role: user.role },
    }),
  );
};
