// src/server.ts: the before/after hooks around any Request -> Response handler
import { myEndpoint, signIn, signOut } from './endpoint.ts';
import { loadSession, saveSession } from './session.ts';

export async function handle(request: Request): Promise<Response> {
  const context = {};
  await loadSession(context, request); // kit-http `beforeFunctions`
  const { pathname } = new URL(request.url);
  const args = { context, request };
  const result =
    pathname === '/login'
      ? await signIn(args, 'u_1')
      : pathname === '/logout'
        ? await signOut(args)
        : await myEndpoint(args);
  const response = result.success
    ? Response.json(result.response)
    : Response.json({ error: result.error.message }, { status: result.error.code });
  await saveSession(context, response); // kit-http `afterFunctions`
  return response;
}
