import type { APIRoute } from 'astro';
import { requireSession } from 'sessionkit/server';

/**
 * The signed-in user as JSON. Guarded by { pattern: '/api/me', authenticated: true }: signed out,
 * the guard answers 401 JSON before this runs (and requireSession() would too).
 */
export const GET: APIRoute = (context) => {
  const user = requireSession(context);
  const { session } = context.locals.sessionkit;
  return Response.json({
    user: { id: user.userId, email: user.email, name: user.name, role: user.role, permissions: user.permissions },
    session: {
      createdAt: new Date(session.createdAt * 1000).toISOString(),
      expiresAt: new Date(session.expiresAt * 1000).toISOString(),
    },
  });
};
