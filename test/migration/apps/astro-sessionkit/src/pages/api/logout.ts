// The README's "Logout Flow", migrated: clearSession() also deletes the cookie (and store row).
import type { APIRoute } from 'astro';
import { clearSession } from 'sessionkit/server';

export const POST: APIRoute = async (context) => {
  // Clear from SessionKit
  await clearSession(context);

  return context.redirect('/login');
};
