// No sessions here: signing in is a no-op, so the benchmark treats every variant alike.
export function POST() {
  return new Response('signed in', { headers: { 'content-type': 'text/plain' } });
}
