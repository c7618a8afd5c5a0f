/**
 * The same small app as app.ts, written on the `sessionkit/fetch` adapter instead of the low-level
 * API: `withSessionkit()` loads the session, checks CSRF and the route rules, and saves the
 * session; the handler uses the `sessionkit/server` helpers, which find the request through the
 * runtime's `AsyncLocalStorage`. adapter-deno-server.ts and adapter-bun-server.ts serve it.
 */
import { withSessionkit } from 'sessionkit/fetch';
import { clearSession, getSession, requireSession, setSession } from 'sessionkit/server';

const users: Record<string, { userId: string; role: string }> = {
  'user@example.com': { userId: 'u_user', role: 'user' },
  'admin@example.com': { userId: 'u_admin', role: 'admin' },
};

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

function html(body: string, token: string): Response {
  return new Response(`<html><head><meta name="csrf-token" content="${token}"></head><body>${body}</body></html>`, {
    headers: { 'content-type': 'text/html; charset=utf-8' },
  });
}

/** The app's fetch handler, wrapped; `runtime` is shown on the dashboard. */
export function createAdapterApp(secret: string, runtime: string): (request: Request) => Promise<Response> {
  return withSessionkit(
    {
      secrets: secret,
      loginPath: '/login',
      protect: [
        { pattern: '/dashboard', authenticated: true },
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/api/**', authenticated: true },
      ],
    },
    async (request, context) => {
      const route = `${request.method} ${context.url.pathname}`;
      const { session, csrfToken } = context.locals.sessionkit;
      if (route === 'POST /login') {
        const email = String((await request.formData()).get('email') ?? '');
        const user = users[email];
        if (user === undefined) return new Response('Invalid credentials', { status: 401 });
        await setSession({ userId: user.userId, email, role: user.role });
        context.locals.sessionkit.session.flash('notice', `Signed in as ${email}`);
        return new Response(null, { status: 303, headers: { location: '/dashboard' } });
      }
      if (route === 'POST /logout') {
        await clearSession();
        return new Response(null, { status: 303, headers: { location: '/login' } });
      }
      if (route === 'GET /api/me') {
        const user = requireSession();
        return Response.json({ userId: user.userId, role: user.role });
      }
      const notice = session.flash('notice') as string | undefined;
      const flash = notice === undefined ? '' : `<p id="notice">${escapeHtml(notice)}</p>`;
      if (route === 'GET /login') return html(`${flash}<form method="post" action="/login"></form>`, csrfToken);
      if (route === 'GET /dashboard') {
        const email = escapeHtml(String(getSession()?.email));
        return html(`${flash}<h1>Welcome, ${email}</h1><p id="runtime">${escapeHtml(runtime)}</p>`, csrfToken);
      }
      if (route === 'GET /admin') return html('<h1>Admin home</h1>', csrfToken);
      return new Response('Not found', { status: 404 });
    },
  );
}
