// src/pages/logout.ts
import type { APIRoute } from 'astro';
import { clearSession, getSessionHandle, regenerateSession } from 'sessionkit/server';

export const POST: APIRoute = async (context) => {
  await clearSession(context); // deletes the session (and its store entry) and the cookie
  await regenerateSession(context); // a fresh anonymous session, only to carry the message below
  getSessionHandle(context).flash('notice', 'You have been signed out.');
  return context.redirect('/login', 303);
};
