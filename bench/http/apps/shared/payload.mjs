// The session every variant signs in with: the cookie and store benchmarks' payload (7 fields,
// ~200 bytes of JSON), so the HTTP suite moves the same data as the others.
export const payload = Object.freeze({
  userId: 'u_7f3a9c2e41b8',
  email: 'alice@example.com',
  role: 'editor',
  permissions: ['posts:read', 'posts:write', 'media:upload'],
  theme: 'dark',
  locale: 'en-GB',
  visits: 1,
});

/** A copy to write into a session (the frozen original is never handed to a library). */
export function sessionData() {
  return structuredClone(payload);
}
