/**
 * What a current browser sends with a same-origin request: `Sec-Fetch-Site: same-origin` next to
 * its `Origin`. Test clients add it so their own requests look like a browser's. Requests from a
 * foreign `Origin` are left as the test wrote them: without `Sec-Fetch-Site` they play a browser
 * that does not send it, which sessionkit checks by `Origin` alone.
 */

/** Adds `Sec-Fetch-Site: same-origin` when `Origin` is the origin of `target` and none is set. */
export function addBrowserFetchSite(headers: Headers, target: string): void {
  const origin = headers.get('origin');
  if (origin === null || headers.has('sec-fetch-site')) return;
  if (origin === new URL(target).origin) headers.set('sec-fetch-site', 'same-origin');
}
