// The README's setSession(session, context, options) example: `ttl` in seconds.
import type { APIRoute } from 'astro';
import { setSession } from 'sessionkit/server';
import { verifyCredentials } from '../../lib/users.ts';

export const POST: APIRoute = async (context) => {
  const { email, password, ttl } = await context.request.json();
  const user = await verifyCredentials(email, password);
  if (!user) return new Response(JSON.stringify({ error: 'Invalid credentials' }), { status: 401 });

  await setSession(
    {
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions,
    },
    context,
    { ttl: ttl ?? 3600 },
  );

  return new Response(JSON.stringify({ success: true }));
};
