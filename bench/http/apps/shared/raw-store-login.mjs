// `POST /login` of the raw-client floors: a new id in the app's store, in a plain cookie. Each
// floor's src/pages/login.js passes its own store's createSession.
import { sessionData } from './payload.mjs';

/** The sign-in endpoint over `createSession(data) -> id`. */
export function rawStoreLogin(createSession) {
  return async function POST() {
    const id = await createSession(sessionData());
    return new Response('signed in', {
      headers: {
        'content-type': 'text/plain',
        'set-cookie': `sid=${id}; Max-Age=86400; Path=/; HttpOnly; Secure; SameSite=Lax`,
      },
    });
  };
}
