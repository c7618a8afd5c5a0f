// The workload on workerd (bench/webcrypto/wrangler.json; `wrangler dev` bundles it):
// GET /run?rounds=N runs it and answers the samples as JSON.
import { run } from './workload.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/run') return new Response('GET /run?rounds=N', { status: 404 });
    const rounds = Number(url.searchParams.get('rounds') ?? '5');
    return Response.json(await run(rounds, `workerd (${navigator.userAgent})`));
  },
};
