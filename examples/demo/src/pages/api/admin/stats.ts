import type { APIRoute } from 'astro';
import { listUsers } from '../../../lib/users.ts';

/** Admin-only JSON. Guarded by { pattern: '/api/admin/**', role: 'admin' }: 401 signed out, 403 for non-admins. */
export const GET: APIRoute = async (context) => {
  const { manager } = context.locals.sessionkit;
  const users = listUsers();
  const sessions = await Promise.all(users.map((user) => manager.listSessions(user.id)));
  return Response.json({
    users: users.length,
    admins: users.filter((user) => user.role === 'admin').length,
    activeSessions: sessions.reduce((total, list) => total + list.length, 0),
  });
};
