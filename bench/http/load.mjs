// The load generator of the HTTP suite, run as its own process (so it gets its own CPU time
// instead of sharing the orchestrator's event loop): autocannon warms the server up, then
// measures. Prints one JSON line `{"phase":"measuring"}` when the measured part starts (the
// orchestrator samples the server's CPU time then) and one JSON line with the result at the end.
//
//   node bench/http/load.mjs '{"url":"http://127.0.0.1:4321/","headers":{},"connections":50,
//                              "warmupSeconds":3,"durationSeconds":10,"expectBody":"<!DOCTYPE html>..."}'
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
const { url, headers = {}, connections = 50, warmupSeconds = 3, durationSeconds = 10, expectBody } = options;
if (typeof url !== 'string') {
  process.stderr.write('usage: node bench/http/load.mjs \'{"url": "...", ...}\'\n');
  process.exit(2);
}

// expectBody: every response must be exactly the signed-in page (a guest page counts as a mismatch).
const common = { url, headers, connections, pipelining: 1, ...(expectBody === undefined ? {} : { expectBody }) };
const warmup = warmupSeconds > 0 ? await autocannon({ ...common, duration: warmupSeconds }) : undefined;
process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
const result = await autocannon({ ...common, duration: durationSeconds });
process.stdout.write(`${JSON.stringify({ phase: 'measured' })}\n`);

const statusCounts = Object.fromEntries(
  Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, Number(count)]),
);
process.stdout.write(
  `${JSON.stringify({
    phase: 'done',
    requests: result.requests.total,
    warmupRequests: warmup?.requests.total ?? 0,
    durationSeconds: result.duration,
    rps: result.requests.total / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.average,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches ?? 0,
    statusCounts,
    bytesPerResponse: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  })}\n`,
);
