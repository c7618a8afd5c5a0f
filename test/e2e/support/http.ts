/**
 * A cookie-keeping HTTP client that, like a browser, sends the same cookies to every port of
 * 127.0.0.1 (cookies are scoped by host, not port): one "browser" talking to two instances.
 */
import { addBrowserFetchSite } from '../../support/fetch-site.ts';
import { CookieJar } from '../../support/fixtures.ts';

export class HttpClient {
  readonly jar = new CookieJar();

  /** Sends a request with the stored cookies, applies `Set-Cookie`, never follows redirects. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.jar.header();
    if (cookie !== '') headers.set('cookie', cookie);
    addBrowserFetchSite(headers, url);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.jar.apply(response.headers.getSetCookie());
    return response;
  }

  /** GETs a page and returns its HTML (throws unless 200). */
  async page(url: string): Promise<string> {
    const response = await this.fetch(url);
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
    return response.text();
  }

  /** POSTs a form the way a browser does (same-origin `Origin` and `Sec-Fetch-Site` headers). */
  postForm(url: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
      body: new URLSearchParams(fields),
    });
  }
}

/** The value of the first hidden `csrf_token` field of a page. */
export function csrfTokenOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no csrf_token field on the page');
  return match[1];
}

/** A demo account's credentials. */
export interface Credentials {
  readonly email: string;
  readonly password: string;
}

/**
 * Signs `account` in to the demo at `base` through its sign-in form, as a browser does (the form
 * page, then its POST with the page's CSRF token); returns the POST's answer.
 */
export async function signInWithForm(client: HttpClient, base: string, account: Credentials): Promise<Response> {
  const token = csrfTokenOf(await client.page(`${base}/login`));
  return client.postForm(`${base}/login`, { csrf_token: token, email: account.email, password: account.password });
}
