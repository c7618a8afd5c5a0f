import type { APIRoute } from 'astro';
import { signOut } from '../lib/auth.ts';

/** Sign out: a POST from the header's form (with its CSRF token), then back to the sign-in page. */
export const POST: APIRoute = async (context) => {
  await signOut(context, 'You have been signed out.');
  return context.redirect('/login', 303);
};

/** Signing out never happens on a GET (a link or an image could trigger it); just go home. */
export const GET: APIRoute = (context) => context.redirect('/', 303);
