// Signs in (used once, before the measurement): `/login` is CSRF-exempt in astro.config.mjs.
import { setSession } from 'sessionkit/server';
import { sessionData } from '../../../shared/payload.mjs';

export async function POST(context) {
  await setSession(context, sessionData());
  return new Response('signed in', { headers: { 'content-type': 'text/plain' } });
}
