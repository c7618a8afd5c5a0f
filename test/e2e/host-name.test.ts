/**
 * The demo's production build reached the way users reach a deployed app: by a host name that is
 * not localhost (`myapp.test`, mapped to 127.0.0.1 inside Chromium), with the browser's own
 * `Origin` and `Sec-Fetch-Site` headers. Astro 7.4+'s node adapter builds `request.url` from
 * `localhost:PORT` for such a Host unless it is listed in `security.allowedDomains` (the demo lists
 * none), so an origin check that compares `Origin` with the URL refuses every form post here.
 *
 * Over plain http (requests with a browser's headers, sent by hand: Chromium keeps `Secure`
 * cookies only on https and localhost) and in Chromium behind a TLS-terminating proxy.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/services.ts';
import { launchChromium, newContext, signIn } from './support/browser.ts';
import { type DemoServer, demoAccounts, startDemo } from './support/demo.ts';
import { startTlsProxy, type TlsProxy } from './support/tls-proxy.ts';

const { user } = demoAccounts;
const astroVersion = (createRequire(import.meta.url)('astro/package.json') as { version: string }).version;
const [astroMajor = 0, astroMinor = 0] = astroVersion.split('.').map(Number);
/**
 * Astro 7.4 changed two things this file meets: its node adapter stopped trusting an unlisted
 * `Host` for `request.url`, and its own `checkOrigin` started trusting `Sec-Fetch-Site`. Before,
 * behind a TLS proxy, Astro's check compared `Origin: https://…` with `http://…` and refused
 * every form post unless `security.allowedDomains` was set (docs/csrf.md#deployments).
 */
const astroAtLeast74 = astroMajor > 7 || (astroMajor === 7 && astroMinor >= 4);

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (a `Host` of our choosing included). */
function send(
  target: string,
  path: string,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<RawResponse> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk) => {
        text += chunk;
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A cookie jar that, unlike Chromium on plain http, keeps `Secure` cookies (curl's behaviour). */
class RawBrowser {
  readonly #cookies = new Map<string, string>();
  constructor(
    readonly target: string,
    readonly host: string,
  ) {}

  async request(path: string, method = 'GET', extra: Record<string, string> = {}, body = ''): Promise<RawResponse> {
    const headers: Record<string, string> = { host: this.host, ...extra };
    if (this.#cookies.size > 0)
      headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await send(this.target, path, method, headers, body);
    const lines = response.headers['set-cookie'] ?? [];
    for (const line of Array.isArray(lines) ? lines : [lines]) {
      const pair = line.slice(0, line.indexOf(';'));
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  async signIn(headers: Record<string, string>): Promise<RawResponse> {
    const form = await this.request('/login');
    const token = /name="csrf_token" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const fields = new URLSearchParams({ csrf_token: token, email: user.email, password: user.password });
    return this.request(
      '/login',
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      fields.toString(),
    );
  }
}

describe('demo reached by a host name', () => {
  let server: DemoServer;
  let proxy: TlsProxy;
  let browser: Browser;
  let attacker: Server;
  let plainOrigin: string;
  let tlsOrigin: string;
  let attackerOrigin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startDemo();
    plainOrigin = `http://myapp.test:${new URL(server.url).port}`;
    proxy = await startTlsProxy('myapp.test', server.url);
    tlsOrigin = `https://myapp.test:${proxy.port}`;
    // A page on another site that posts a form to the app as soon as it loads.
    const attackerPort = await freePort();
    attackerOrigin = `http://evil.test:${attackerPort}`;
    attacker = createServer((request, response) => {
      const target = new URL(request.url ?? '/', attackerOrigin).searchParams.get('target') ?? '';
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(
        `<form id="f" method="post" action="${target}/dashboard"><input name="action" value="increment"></form>` +
          '<script>document.getElementById("f").submit()</script>',
      );
    });
    await new Promise<void>((resolve) => attacker.listen(attackerPort, '127.0.0.1', resolve));
    browser = await launchChromium([
      '--host-resolver-rules=MAP myapp.test 127.0.0.1, MAP evil.test 127.0.0.1',
      // The proxy's certificate is self-signed for myapp.test.
      '--ignore-certificate-errors',
    ]);
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await proxy?.stop();
    await server?.stop();
  });

  it("plain http://myapp.test:PORT with a browser's headers: sign-in answers 303, then the dashboard", async () => {
    const client = new RawBrowser(server.url, new URL(plainOrigin).host);
    const signedIn = await client.signIn({ origin: plainOrigin, 'sec-fetch-site': 'same-origin' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/dashboard');
    const dashboard = await client.request('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.body).toContain('data-testid="dashboard"');
  });

  it("plain http: a cross-site post is refused, and so is an older browser's post without allowedDomains", async () => {
    const crossSite = await new RawBrowser(server.url, new URL(plainOrigin).host).signIn({
      origin: 'http://evil.test',
      'sec-fetch-site': 'cross-site',
    });
    expect(crossSite.status).toBe(403);
    // A browser that sends no Sec-Fetch-Site is checked by Origin against what the server trusts
    // as its own origin: on Astro 7.4+ localhost, since myapp.test is not in allowedDomains.
    const olderBrowser = await new RawBrowser(server.url, new URL(plainOrigin).host).signIn({ origin: plainOrigin });
    expect(olderBrowser.status).toBe(astroAtLeast74 ? 403 : 303);
  });

  it('in Chromium behind a TLS proxy: signs in (303, then the dashboard) and runs a CSRF-protected form post', async () => {
    const context = await newContext(browser, tlsOrigin);
    contexts.push(context);
    const page = await context.newPage();
    const posts: { status: number; url: string }[] = [];
    page.on('response', (response) => {
      if (response.request().method() === 'POST') posts.push({ status: response.status(), url: response.url() });
    });
    await signIn(page, user.email, user.password);
    if (!astroAtLeast74) {
      expect(posts).toEqual([{ status: 403, url: `${tlsOrigin}/login` }]);
      expect(await page.textContent('body')).toBe('Cross-site POST form submissions are forbidden');
      return;
    }
    expect(posts).toEqual([{ status: 303, url: `${tlsOrigin}/login` }]);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    const before = Number(await page.getByTestId('count').textContent());
    await Promise.all([page.waitForNavigation(), page.getByTestId('increment').click()]);
    expect(Number(await page.getByTestId('count').textContent())).toBe(before + 1);
  });

  it('in Chromium: a form another site posts to the app is refused and changes nothing', async () => {
    // Astro 7.3 refuses sign-in behind the proxy without allowedDomains: the victim uses 127.0.0.1 there.
    const appOrigin = astroAtLeast74 ? tlsOrigin : server.url;
    const context = await newContext(browser, appOrigin, { javaScriptEnabled: true });
    contexts.push(context);
    const page = await context.newPage();
    await signIn(page, user.email, user.password);
    const before = Number(await page.getByTestId('count').textContent());
    const forged = page.waitForResponse((response) => response.url() === `${appOrigin}/dashboard`);
    await page.goto(`${attackerOrigin}/?target=${encodeURIComponent(appOrigin)}`);
    expect((await forged).status()).toBe(403);
    await page.goto(`${appOrigin}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
    expect(Number(await page.getByTestId('count').textContent())).toBe(before);
  });
});
