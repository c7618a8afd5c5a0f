// The README's updateSession(updates, context, options) example, with `ttl`.
import type { APIRoute } from 'astro';
import { updateSession } from 'sessionkit/server';

export const POST: APIRoute = async (context) => {
  const { ttl } = await context.request.json();
  // Update user's role
  await updateSession(
    {
      role: 'admin',
      permissions: ['admin:read', 'admin:write'],
    },
    context,
    ttl === undefined ? undefined : { ttl },
  );
  return new Response(JSON.stringify({ success: true }));
};
