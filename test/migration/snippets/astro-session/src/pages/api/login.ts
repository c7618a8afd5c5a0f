// src/pages/api/login.ts
import type { APIRoute } from 'astro';
import { validateCredentials } from '../../lib/auth.ts';
import { commitSession, getSession } from '../../session.ts';

export const POST: APIRoute = async ({ request }) => {
  const session = await getSession(request);
  const formData = await request.formData();

  const email = formData.get('email');
  const password = formData.get('password');

  // your own email + password check
  const user = await validateCredentials(email, password);

  if (!user) {
    // read once by the login page on the next request
    session.flash('error', 'Invalid email/password');

    return new Response(null, {
      status: 303,
      headers: { location: '/login', 'set-cookie': await commitSession(session) },
    });
  }

  // signed in: save the user and issue a new session id (no session fixation)
  session.set('user', user);
  session.regenerate();

  return new Response(null, {
    status: 303,
    headers: { location: '/dashboard', 'set-cookie': await commitSession(session) },
  });
};
