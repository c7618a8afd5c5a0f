// `POST /login` of the sessionkit variants: signs in once, before the measurement (`/login` is
// CSRF-exempt in their astro.config.mjs). Each app's src/pages/login.js re-exports it.
import { setSession } from 'sessionkit/server';
import { sessionData } from './payload.mjs';

export async function POST(context) {
  await setSession(context, sessionData());
  return new Response('signed in', { headers: { 'content-type': 'text/plain' } });
}
