// The load generator of the HTTP suite, one process for the whole run (its own CPU time, and no
// process start between runs, so runs can be short and many). It reads one JSON job per line on
// stdin, runs them one at a time, and answers on stdout with JSON lines:
//   {"id":1,"phase":"measuring"}  when the measured part starts (the orchestrator samples the
//                                  server's CPU time then)
//   {"id":1,"phase":"measured"}   when it ends
//   {"id":1,"phase":"done",...}   the result
// A job: {"id":1,"url":"http://127.0.0.1:4321/","headers":{},"connections":50,"warmupSeconds":1,
//         "durationSeconds":4,"expectBody":"<!DOCTYPE html>..."}. The process exits when stdin ends.
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function runJob(job) {
  const { id, url, headers = {}, connections = 50, warmupSeconds = 1, durationSeconds = 4, expectBody } = job;
  // expectBody: every response must be exactly the signed-in page (a guest page counts as a mismatch).
  const common = { url, headers, connections, pipelining: 1, ...(expectBody === undefined ? {} : { expectBody }) };
  const warmup = warmupSeconds > 0 ? await autocannon({ ...common, duration: warmupSeconds }) : undefined;
  send({ id, phase: 'measuring' });
  const result = await autocannon({ ...common, duration: durationSeconds });
  send({ id, phase: 'measured' });
  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, Number(count)]),
  );
  send({
    id,
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
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== '') await runJob(JSON.parse(line));
}
