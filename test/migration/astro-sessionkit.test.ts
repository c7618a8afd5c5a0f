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
async function setUp(integration: AstroIntegration, root: URL = snippetRoot): Promise<string> {
  let source = '';
  const hook = integration.hooks['astro:config:setup'] as (params: unknown) => void | Promise<void>;
  await hook({
    config: { root, base: '/' },
    command: 'build',
    updateConfig: (update: { vite?: { plugins?: { load: (id: string) => string | undefined }[] } }) => {
      const plugin = update.vite?.plugins?.[0];
      source = plugin?.load('\0virtual:sessionkit/config') ?? source;
    },
    addMiddleware: () => {},
    addDevToolbarApp: () => {},
    addWatchFile: () => {},
    injectRoute: () => {},
    logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
  });
  return source;
}

/** The refusal `setUp` meets for `options`, in a project without a runtime config file. */
async function refusalOf(options: Parameters<typeof sessionkit>[0]): Promise<{ message: string; hint: string }> {
  const root = pathToFileURL(`${mkdtempSync(`${tmpdir()}/sk-astro-`)}/`);
  try {
    await setUp(sessionkit(options as never), root);
  } catch (error) {
    expect(isSessionKitError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    return { message: (error as Error).message, hint: (error as { hint?: string }).hint ?? '' };
  }
  throw new Error('the options were accepted');
}

describe('src/pages/api/login.ts (setSession after authentication)', () => {
  it('ask-38 signs in with setSession(context, session) (0.1.14 order): data in the session, session id rotated, cookie carries it', async () => {
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

describe('astro.config.mjs is plain data; functions move to src/sessionkit.ts', () => {
  it('the options are written into the server bundle as JSON, next to the runtime config file', async () => {
    const config = (await import(new URL('astro.config.mjs', snippetRoot).href)).default as {
      integrations: AstroIntegration[];
    };
    const source = await setUp(config.integrations[0]!);
    expect(source).toContain('src/sessionkit.ts');
    const line = source.split('\n').find((entry) => entry.startsWith('export const options = '))!;
    expect(JSON.parse(line.slice('export const options = '.length).replace(/;$/, ''))).toMatchObject({
      loginPath: '/login',
      protect: [{ pattern: '/admin/**', role: 'admin' }],
    });
  });

  it('ask-29 the access hooks (getRole, getPermissions) work from src/sessionkit.ts', async () => {
    const guard = createGuard({ rules: [{ pattern: '/admin/**', role: 'admin' }], access: runtimeConfig.access });
    const allowed = await guard.decide({ session: { userId: 'u1', primaryRole: 'admin' }, path: '/admin' });
    expect(allowed.action).toBe('allow');
    const denied = await guard.decide({ session: { userId: 'u2', role: 'admin' }, path: '/admin' });
    expect(denied.action).toBe('deny');
    const permissions = runtimeConfig.access?.getPermissions?.({ permissions: ['a'], dynamicPerms: ['b'] });
    expect(permissions).toEqual(['a', 'b']);
  });

  it('ask-23b an allow function in astro.config is refused, and the hint is the rule rewritten for src/sessionkit.ts', async () => {
    // The astro-sessionkit README's "custom logic" rule.
    const allow = (session: { subscription?: string } | null) => session?.subscription === 'premium';
    const { message, hint } = await refusalOf({
      loginPath: '/login',
      protect: [
        { pattern: '/admin/**', role: 'admin' },
        { pattern: '/premium/**', allow },
      ],
    } as never);
    expect(message).toContain('sessionkit().protect[1].allow is a function: move this rule to src/sessionkit.ts');
    expect(hint).toContain("import { defineSessionkit } from 'sessionkit/astro/config';");
    expect(hint).toContain(`protect: [{ pattern: '/premium/**', allow: ${String(allow)} }]`);
  });

  it('`allow: () => true` is refused with the explicit signed-in requirement as the fix', async () => {
    const { message, hint } = await refusalOf({ protect: [{ pattern: '/account', allow: () => true }] } as never);
    expect(message).toContain('sessionkit().protect[0].allow is a function');
    expect(hint).toContain("{ pattern: '/account', authenticated: true }");
    expect(hint).toContain("protect: [{ pattern: '/account', allow: () => true }]");
  });

  it('access hooks in astro.config are refused, with the block to move', async () => {
    const getRole = (session: { primaryRole?: string }) => session.primaryRole ?? null;
    const { message, hint } = await refusalOf({ access: { getRole } } as never);
    expect(message).toContain('sessionkit().access.getRole is a function: move "access" to src/sessionkit.ts');
    expect(hint).toContain(`access: { getRole: ${String(getRole)} }`);
  });

  it('the runtime config file named in the fix is the one configFile points to', async () => {
    const { message, hint } = await refusalOf({
      configFile: 'src/auth/sessionkit.ts',
      protect: [{ pattern: '/x', role: 'admin', allow: (session: { team?: string }) => session.team === 'red' }],
    } as never);
    expect(message).toContain('move this rule to src/auth/sessionkit.ts');
    expect(hint).toContain('// src/auth/sessionkit.ts');
    expect(hint).not.toContain('authenticated: true');
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
