// Signs in (used once, before the measurement): a new id in the store, in a plain cookie.
import { sessionData } from '../../../shared/payload.mjs';
import { createSession } from '../lib/store.mjs';

export async function POST() {
  const id = await createSession(sessionData());
  return new Response('signed in', {
    headers: {
      'content-type': 'text/plain',
      'set-cookie': `sid=${id}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`,
    },
  });
}
