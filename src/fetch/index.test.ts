import { describe, expect, it } from 'vitest';
import { testSecrets } from '../../test/support/fixtures.ts';
import { getSession, setSession } from '../server/index.ts';
import { memoryStore } from '../stores/memory.ts';
import { type FetchContext, withSessionkit } from './index.ts';

describe('withSessionkit', () => {
  it("passes the server's extra arguments through (Bun's server, a Worker's env and ctx)", async () => {
    const handler = withSessionkit<[{ GREETING: string }]>(
      { secrets: testSecrets[0] },
      (_request, _context, env) => new Response(env.GREETING),
    );
    const response = await handler(new Request('https://app.test/'), { GREETING: 'hello' });
    expect(await response.text()).toBe('hello');
  });

  it('gives rules and the handler one context carrying the request state', async () => {
    const seen: FetchContext[] = [];
    const handler = withSessionkit(
      {
        secrets: testSecrets[0],
        protect: [
          {
            pattern: '/team/**',
            allow: (_session, context) => {
              seen.push(context);
              return context.url.searchParams.get('team') === 'red';
            },
          },
        ],
      },
      async (_request, context) => {
        seen.push(context);
        await setSession(context, { userId: 'u_1' });
        return new Response(String(getSession(context)?.userId));
      },
    );
    const signIn = await handler(new Request('https://app.test/'));
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const allowed = await handler(new Request('https://app.test/team/x?team=red', { headers: { cookie } }));
    expect(await allowed.text()).toBe('u_1');
    expect(seen.at(-2)).toBe(seen.at(-1));
    expect(seen.at(-1)?.locals.sessionkit.session.data.userId).toBe('u_1');
    const refused = await handler(
      new Request('https://app.test/team/x?team=blue', { headers: { cookie, accept: 'text/html' } }),
    );
    expect(refused.status).toBe(403);
  });

  it('exposes the session manager for work outside requests', async () => {
    const handler = withSessionkit({ secrets: testSecrets[0], store: memoryStore() }, () => new Response('ok'));
    expect(await handler.manager.load(null)).toMatchObject({ status: 'new' });
  });

  it('refuses bad options when it is created, naming the function', () => {
    expect(() => withSessionkit({ secrets: 'short' }, () => new Response('ok'))).toThrow(/secret/i);
    expect(() => withSessionkit({ secrets: testSecrets[0], protekt: [] } as never, () => new Response('ok'))).toThrow(
      /withSessionkit\(\): unknown option "protekt"/,
    );
  });
});
