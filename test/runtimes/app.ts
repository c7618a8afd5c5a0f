/**
 * A small app on sessionkit's public API, as a user of a plain `Request`/`Response` server writes
 * it: `sessionkit` (sessions), `sessionkit/guard` (route protection), `sessionkit/csrf` (CSRF).
 * The package resolves to this repository's built `dist/` (the package imports itself by name).
 * `deno-server.ts` and `bun-server.ts` serve it with `Deno.serve` / `Bun.serve`; the tests in
 * this folder drive it over HTTP.
 */
import { type CryptoEngine, createKeyRing, createSessionManager, isSessionKitError } from 'sessionkit';
import { createCsrfProtection, csrfFailureResponse, csrfMeta, isSafeMethod } from 'sessionkit/csrf';
import { createGuard, requestInput } from 'sessionkit/guard';
import { sqliteStore } from 'sessionkit/stores/sqlite';

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML: the app's own escaping (sessionkit escapes only what it writes itself). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

/** Settings the server scripts read from their environment. */
export interface AppSettings {
  secret: string;
  cryptoEngine: CryptoEngine;
  /** `cookie`: sealed cookies; `sqlite`: server-side sessions in an in-memory node:sqlite database. */
  store: 'cookie' | 'sqlite';
  /** The runtime's name and version, shown on the dashboard so a test can tell where it ran. */
  runtime: string;
}

const users: Record<string, { userId: string; role: string }> = {
  'user@example.com': { userId: 'u_user', role: 'user' },
  'admin@example.com': { userId: 'u_admin', role: 'admin' },
};

function page(body: string, token: string, setCookies: string[], status = 200): Response {
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  for (const cookie of setCookies) headers.append('set-cookie', cookie);
  return new Response(`<html><head>${csrfMeta(token)}</head><body>${body}</body></html>`, {
    status,
    headers,
  });
}

function withCookies(response: Response, setCookies: string[]): Response {
  for (const cookie of setCookies) response.headers.append('set-cookie', cookie);
  return response;
}

/** The app's fetch handler. */
export function createApp(settings: AppSettings): (request: Request) => Promise<Response> {
  const keyRing = createKeyRing(settings.secret);
  const sessions = createSessionManager({
    secrets: keyRing,
    cryptoEngine: settings.cryptoEngine,
    store: settings.store === 'sqlite' ? sqliteStore({ database: ':memory:' }) : undefined,
  });
  const csrf = createCsrfProtection({ keyRing, cryptoEngine: settings.cryptoEngine });
  const guard = createGuard({
    loginPath: '/login',
    rules: [
      { pattern: '/dashboard', roles: ['user', 'admin'] },
      { pattern: '/admin/**', role: 'admin' },
      { pattern: '/api/**', roles: ['user', 'admin'] },
    ],
  });

  return async (request) => {
    const url = new URL(request.url);
    const loaded = await sessions.load(request);
    const session = loaded.session;
    const decision = await guard.decide({ ...requestInput(request), session: session.data });
    if (decision.action === 'redirect') {
      return new Response(null, { status: decision.status, headers: { location: decision.location } });
    }
    if (decision.action === 'deny') return Response.json(decision.body, { status: decision.status });
    if (!isSafeMethod(request.method)) {
      const verdict = await csrf.verifyRequest(request, {
        sessionId: loaded.status === 'valid' ? session.id : undefined,
      });
      if (!verdict.ok) return csrfFailureResponse(verdict);
    }

    const route = `${request.method} ${url.pathname}`;
    if (route === 'POST /login') {
      const email = String((await request.formData()).get('email') ?? '');
      const user = users[email];
      if (user === undefined) return new Response('Invalid credentials', { status: 401 });
      session.regenerate();
      session.set('userId', user.userId);
      session.set('email', email);
      session.set('role', user.role);
      session.flash('notice', `Signed in as ${email}`);
      const setCookies = await sessions.commit(session);
      return withCookies(new Response(null, { status: 303, headers: { location: '/dashboard' } }), setCookies);
    }
    if (route === 'POST /logout') {
      session.destroy();
      const setCookies = await sessions.commit(session);
      return withCookies(new Response(null, { status: 303, headers: { location: '/login' } }), setCookies);
    }
    if (route === 'POST /api/notes') {
      const { text } = (await request.json()) as { text: unknown };
      session.set('notes', [...((session.data.notes as string[] | undefined) ?? []), String(text)]);
      const setCookies = await sessions.commit(session);
      return withCookies(Response.json({ notes: session.data.notes }, { status: 201 }), setCookies);
    }
    if (route === 'GET /api/me') return Response.json({ userId: session.data.userId, role: session.data.role });

    const notice = session.flash('notice') as string | undefined;
    // Issue the token for the id the session will have once committed (new sessions included).
    const token = await csrf.issueToken(session.id);
    const flash = notice === undefined ? '' : `<p id="notice">${escapeHtml(notice)}</p>`;
    if (route === 'GET /login') {
      const setCookies = await sessions.commit(session, { always: session.isNew });
      return page(`${flash}<form method="post" action="/login"></form>`, token, setCookies);
    }
    if (route === 'GET /dashboard') {
      const setCookies = await sessions.commit(session);
      const email = escapeHtml(String(session.data.email));
      const body = `${flash}<h1>Welcome, ${email}</h1><p id="runtime">${escapeHtml(settings.runtime)}</p>`;
      return page(body, token, setCookies);
    }
    if (route === 'GET /admin') return page('<h1>Admin home</h1>', token, await sessions.commit(session));
    return new Response('Not found', { status: 404 });
  };
}

/** Wraps the handler so a thrown error becomes a 500 naming its code (for the test's message). */
export function withErrors(handler: (request: Request) => Promise<Response>): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await handler(request);
    } catch (error) {
      const code = isSessionKitError(error) ? error.code : 'ERR_UNEXPECTED';
      return Response.json({ error: { code, message: String(error) } }, { status: 500 });
    }
  };
}
