// fetch() with the page's CSRF token: every POST, PUT, PATCH and DELETE to the app needs it.
// The page renders the token into <meta name="csrf-token">; rendering it gives a first-time
// visitor a session cookie, so the token is valid on the very next request.
export function csrfFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const token = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
  const headers = new Headers(init.headers);
  headers.set('x-csrf-token', token);
  return fetch(input, { ...init, headers, credentials: 'same-origin' });
}
