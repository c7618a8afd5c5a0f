// src/routes.ts: Web Request/Response handlers (Astro endpoints, Hono, Remix, Next.js route handlers...)
import { sessionStorage } from './session.ts';

export async function getUser(request: Request): Promise<Response> {
  const session = await sessionStorage.getSession(request);
  return Response.json({ username: session.get('username') ?? null, isLoggedIn: session.get('isLoggedIn') === true });
}

export async function login(request: Request): Promise<Response> {
  const session = await sessionStorage.getSession(request);
  session.set('username', 'Alison');
  session.set('isLoggedIn', true);
  session.regenerate(); // new session id at sign-in
  return new Response(null, {
    status: 303,
    headers: { location: '/', 'set-cookie': await sessionStorage.commitSession(session) },
  });
}

export async function logout(request: Request): Promise<Response> {
  const session = await sessionStorage.getSession(request);
  return new Response(null, {
    status: 303,
    headers: { location: '/', 'set-cookie': await sessionStorage.destroySession(session) },
  });
}
