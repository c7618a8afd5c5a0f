// Signs in: seals the payload into the iron-session cookie (used once, before the measurement).
import { getIronSession, webCookies } from 'iron-session';
import { sessionData } from '../../../shared/payload.mjs';
import { ironOptions } from '../lib/iron.mjs';

export async function POST({ request }) {
  const headers = new Headers({ 'content-type': 'text/plain' });
  const session = await getIronSession(webCookies(request, headers), ironOptions);
  Object.assign(session, sessionData());
  await session.save();
  return new Response('signed in', { headers });
}
