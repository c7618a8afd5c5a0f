/**
 * docs/migration/astro-sessionkit.md: the "After" snippets kept here. The Astro pages and
 * endpoints of the guide are the fixture app test/fixtures/astro-basic (and astro-bridge), run
 * end to end by test/astro/basic.test.ts and test/astro/bridge.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { AstroIntegration } from 'astro';
import { createSessionkit, isSessionKitError, type RequestSessionState } from 'sessionkit';
import sessionkit from 'sessionkit/astro';
import { createGuard } from 'sessionkit/guard';
import { getSession, hasPermission, hasRole, requireSession, setSession } from 'sessionkit/server';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../support/fixtures.ts';
import { POST } from './snippets/astro-sessionkit/src/pages/api/login.ts';
import runtimeConfig from './snippets/astro-sessionkit/src/sessionkit.ts';

const snippetRoot = new URL('./snippets/astro-sessionkit/', import.meta.url);
// The pipeline the Astro middleware runs, without Astro (CSRF is covered by the fixture apps).
const kit = createSessionkit({ secrets: testSecrets[0], csrf: false });

/** The `Cookie` header a browser sends after `response`. */
function cookieAfter(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

/** Runs `run` inside one request, as the middleware runs a page, with the state on `locals.sessionkit`. */
function inRequest(
  request: Request,
  run: (context: { request: Request; locals: { sessionkit: RequestSessionState } }) => Response | Promise<Response>,
): Promise<Response> {
  return kit.handle(request, (state) => run({ request, locals: { sessionkit: state } }));
}

function postJson(body: unknown): Request {
  return new Request('https://app.test/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Runs the integration's config-time hook and returns the module source it generates for the server. */
function setUp(integration: AstroIntegration, root: URL = snippetRoot): string {
  let source = '';
  const hook = integration.hooks['astro:config:setup'] as (params: unknown) => void;
  hook({
    config: { root, base: '/' },
    command: 'build',
    updateConfig: (update: { vite?: { plugins?: { load: (id: string) => string | undefined }[] } }) => {
      const plugin = update.vite?.plugins?.[0];
      source = plugin?.load('\0virtual:sessionkit/config') ?? source;
    },
    addMiddleware: () => {},
    addDevToolbarApp: () => {},
    addWatchFile: () => {},
    logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
  });
  return source;
}

/** Evaluates `export const options = ...` of the generated module (functions rebuilt from source). */
function optionsOf(source: string): { access: Parameters<typeof createGuard>[0]['access']; protect: [] } {
  const line = source.split('\n').find((entry) => entry.startsWith('export const options = '));
  return new Function(`return ${line!.slice('export const options = '.length).replace(/;$/, '')}`)();
}

describe('src/pages/api/login.ts (setSession after authentication)', () => {
  it('signs in: data in the session, session id rotated, cookie carries it to the next request', async () => {
    let before = '';
    let after = '';
    const response = await inRequest(
      postJson({ email: 'admin@example.com', password: 'correct horse' }),
      async (context) => {
        before = context.locals.sessionkit.session.id;
        const answer = await POST(context as never);
        after = context.locals.sessionkit.session.id;
        return answer;
      },
    );
    expect(response.status).toBe(200);
    expect(after).not.toBe(before);
    const next = new Request('https://app.test/', { headers: { cookie: cookieAfter(response) } });
    await inRequest(next, (context) => {
      expect(getSession(context)).toMatchObject({ userId: 'u_admin', email: 'admin@example.com', role: 'admin' });
      expect(hasRole('admin', context)).toBe(true);
      expect(hasPermission('settings:write', context)).toBe(true);
      return new Response('checked');
    });
  });

  it('wrong credentials: 401 and no session', async () => {
    const response = await inRequest(postJson({ email: 'admin@example.com', password: 'nope' }), async (context) => {
      const answer = await POST(context as never);
      expect(getSession(context)).toBeNull();
      return answer;
    });
    expect(response.status).toBe(401);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe('sessionkit/server helpers keep the astro-sessionkit call shapes', () => {
  it('work without arguments inside a request (AsyncLocalStorage), like astro-sessionkit', async () => {
    const response = await kit.handle(new Request('https://app.test/'), async () => {
      expect(getSession()).toBeNull();
      expect(() => requireSession()).toThrow(
        expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_UNAUTHENTICATED')),
      );
      await setSession({ userId: 'u1', role: 'editor', permissions: ['posts:write'] });
      expect(requireSession().userId).toBe('u1');
      expect(hasRole('editor')).toBe(true);
      expect(hasPermission('posts:delete')).toBe(false);
      return new Response('checked');
    });
    expect(response.status).toBe(200);
  });

  it('setSession still validates the session shape (ERR_SESSION_INVALID)', async () => {
    await inRequest(new Request('https://app.test/'), (context) => {
      expect(() => setSession(context, { email: 'a@example.com' } as never)).toThrow(
        expect.toSatisfy((error: unknown) => isSessionKitError(error, 'ERR_SESSION_INVALID')),
      );
      return new Response('checked');
    });
  });
});

describe('astro.config.mjs with access hooks (self-contained functions stay in the config)', () => {
  it('the hooks pass the config-time check and work after being rebuilt for the server', async () => {
    const config = (await import(new URL('astro.config.mjs', snippetRoot).href)).default as {
      integrations: AstroIntegration[];
    };
    const source = setUp(config.integrations[0]!);
    expect(source).toContain('src/sessionkit.ts');
    const options = optionsOf(source);
    const guard = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }], access: options.access });
    const allowed = await guard.decide({ session: { userId: 'u1', primaryRole: 'admin' }, path: '/admin' });
    expect(allowed.action).toBe('allow');
    const denied = await guard.decide({ session: { userId: 'u2', role: 'admin' }, path: '/admin' });
    expect(denied.action).toBe('deny');
    const permissions = options.access?.getPermissions?.({ permissions: ['a'], dynamicPerms: ['b'] });
    expect(permissions).toEqual(['a', 'b']);
  });

  it('a function that closes over an import is refused at config time, pointing to src/sessionkit.ts', () => {
    const plans = { isPremium: (plan: unknown) => plan === 'premium' };
    const integration = sessionkit({
      protect: [{ pattern: '/premium/**', allow: (session) => plans.isPremium(session.subscription) }],
    });
    const root = pathToFileURL(`${mkdtempSync(`${tmpdir()}/sk-astro-`)}/`);
    expect(() => setUp(integration, root)).toThrow(
      expect.toSatisfy(
        (error: unknown) =>
          isSessionKitError(error, 'ERR_CONFIG_INVALID') &&
          /"plans"/.test(error.message) &&
          /src\/sessionkit\.ts/.test(error.hint ?? ''),
      ),
    );
  });
});

describe('src/sessionkit.ts (rules with closures)', () => {
  it('the rule closes over an import and decides per session', async () => {
    const guard = createGuard({ rules: runtimeConfig.protect ?? [] });
    const premium = await guard.decide({ session: { userId: 'u1', subscription: 'premium' }, path: '/premium/x' });
    expect(premium.action).toBe('allow');
    const free = await guard.decide({
      session: { userId: 'u2', subscription: 'free' },
      path: '/premium/x',
      accept: 'text/html',
    });
    expect(free).toMatchObject({ action: 'deny', status: 403 });
    const signedOut = await guard.decide({ session: null, path: '/premium/x', accept: 'text/html' });
    expect(signedOut).toMatchObject({ action: 'redirect', status: 303, location: '/login?returnTo=%2Fpremium%2Fx' });
  });
});
