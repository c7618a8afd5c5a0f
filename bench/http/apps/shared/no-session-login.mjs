// `POST /login` of the variants without sessions: a no-op, so the benchmark treats every variant
// alike. Each app's src/pages/login.js re-exports it.
export function POST() {
  return new Response('signed in', { headers: { 'content-type': 'text/plain' } });
}
