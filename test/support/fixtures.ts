/**
 * Shared test fixtures: fixed high-entropy secrets and a tiny cookie jar.
 */
import { parseSetCookie } from 'cookie';

/** Three distinct 256-bit test secrets (base64url). Test-only: never use fixed secrets in an app. */
export const testSecrets = [
  'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni',
  'Qm7Rz2Kp9Wv4Xt1Ls8Nb3Jc6Hd0Fg5Ya2Ue7Io4Pr9Ts',
  'Z8x1C4v7B0n3M6q9W2e5R8t1Y4u7I0o3P6a9S2d5F8g',
] as const;

/** A minimal browser-like cookie jar: applies Set-Cookie values, produces a Cookie header. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Applies `Set-Cookie` values (deletions included). */
  apply(setCookies: Iterable<string>): this {
    for (const line of setCookies) {
      const parsed = parseSetCookie(line);
      if (parsed.maxAge !== undefined && parsed.maxAge <= 0) this.#cookies.delete(parsed.name);
      else this.#cookies.set(parsed.name, parsed.value ?? '');
    }
    return this;
  }

  /** The `Cookie` header a browser would send. */
  header(): string {
    return Array.from(this.#cookies, ([name, value]) => `${name}=${value}`).join('; ');
  }

  /** Names currently stored. */
  names(): string[] {
    return [...this.#cookies.keys()];
  }

  /** The value of one cookie. */
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

/** A settable clock in milliseconds. */
export function createTestClock(start = Date.UTC(2026, 0, 1)) {
  let current = start;
  return {
    now: () => current,
    advanceSeconds(seconds: number) {
      current += seconds * 1000;
    },
  };
}

/** The `Accept` header a browser sends when it loads a page or submits a form. */
export const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * A form post as a browser sends it from a page of the URL's own origin: urlencoded `fields`,
 * same-origin `Origin` and `Sec-Fetch-Site`, the browser's `Accept`, and `jar`'s cookies;
 * `headers` override any of them.
 */
export function browserFormPost(
  url: string,
  jar: CookieJar,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Request {
  return new Request(url, {
    method: 'POST',
    headers: {
      accept: browserAccept,
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(url).origin,
      'sec-fetch-site': 'same-origin',
      cookie: jar.header(),
      ...headers,
    },
    body: new URLSearchParams(fields),
  });
}
