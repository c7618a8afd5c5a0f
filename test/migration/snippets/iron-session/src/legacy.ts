// src/legacy.ts: while old iron-session cookies are still around, carry them over once
import { parseCookie } from 'cookie';
import { unsealData } from 'iron-session';
import { type SessionData, sessionStorage } from './session.ts';

const legacyCookieName = 'myapp_session';

export async function getSessionWithLegacy(request: Request) {
  const session = await sessionStorage.getSession(request);
  const setCookies: string[] = [];
  const legacy = parseCookie(request.headers.get('cookie') ?? '')[legacyCookieName];
  if (legacy !== undefined) {
    if (session.isNew) {
      // {} when the old cookie is expired, tampered or sealed with an unknown password
      const old = await unsealData<SessionData>(legacy, { password: process.env.IRON_SESSION_PASSWORD! });
      if (old.username !== undefined) session.set('username', old.username);
      if (old.isLoggedIn !== undefined) session.set('isLoggedIn', old.isLoggedIn);
    }
    setCookies.push(`${legacyCookieName}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`);
  }
  return { session, setCookies };
}
