// The README's "API Route Protection", import renamed.
import type { APIRoute } from 'astro';
import { hasRole, requireSession } from 'sessionkit/server';

export const GET: APIRoute = async () => {
  const session = requireSession();

  if (!hasRole('admin')) {
    return new Response('Forbidden', { status: 403 });
  }

  // Admin logic here
  return new Response(JSON.stringify({ data: 'secret', userId: session.userId }));
};
