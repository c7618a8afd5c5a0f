// src/pages/api/login.ts
import type { APIRoute } from 'astro';
import { setSession } from 'sessionkit/server';
import { verifyCredentials } from '../../lib/users.ts';

export const POST: APIRoute = async (context) => {
  const { email, password } = await context.request.json();

  // Verify credentials (your own authentication logic)
  const user = await verifyCredentials(email, password);

  if (user) {
    // Sign in: the data goes into the encrypted session cookie, under a new session id
    await setSession(context, {
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions,
    });
    return new Response(JSON.stringify({ success: true }));
  }

  return new Response(JSON.stringify({ error: 'Invalid credentials' }), { status: 401 });
};
