// The cost of redisStore's waitForReplicas: revocations with and without Redis WAIT, against a
// private master and replica (two redis-servers on free loopback ports, started and stopped here).
//
//   npm run build && npx node bench/stores/wait.bench.mjs      (Node 24 from devDependencies)
//
// One "revocation" is manager.revokeSession(id) of a signed-in session: one EVALSHA (the
// tombstone), plus, with waitForReplicas, EXISTS + WAIT pipelined on the revocation connection.
// Measured one at a time (the latency a "sign out" request sees) and 64 in flight (throughput),
// BENCH_ROUNDS (default 5) interleaved rounds of 400 revocations per mode, median reported.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSessionManager } from '../../dist/index.js';
import { redisStore } from '../../dist/stores/redis.js';
import { startOwnRedis } from '../../test/support/services.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const perRound = 400;
const secret = randomBytes(32).toString('base64url');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function signedInIds(manager, count) {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const { session } = await manager.load(null);
      session.set('userId', `bench-${index % 50}`);
      await manager.commit(session);
      return session.id;
    }),
  );
}

/** Microseconds per revocation, `inFlight` at a time. */
async function revoke(manager, ids, inFlight) {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = next++; index < ids.length; index = next++) {
        if (!(await manager.revokeSession(ids[index]))) throw new Error('a revocation found nothing');
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1000 / ids.length;
}

// Diskless sync without the default 5 s wait, so the replica is in sync at once.
const master = await startOwnRedis(['--repl-diskless-sync-delay', '0']);
const replica = await startOwnRedis(['--replicaof', '127.0.0.1', String(master.port)]);
const client = new Redis({ host: '127.0.0.1', port: master.port, enableAutoPipelining: true, maxRetriesPerRequest: 1 });
const revocations = client.duplicate(); // WAIT blocks its connection: revocations get their own
try {
  const replicaClient = new Redis({ host: '127.0.0.1', port: replica.port });
  while (!(await replicaClient.info('replication')).includes('master_link_status:up')) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  replicaClient.disconnect();
  const modes = {
    'no WAIT (default)': createSessionManager({ secrets: secret, store: redisStore({ client }) }),
    'waitForReplicas: 1': createSessionManager({
      secrets: secret,
      store: redisStore({ client, waitForReplicas: { replicas: 1, timeoutMs: 500, client: revocations } }),
    }),
  };
  const samples = {};
  for (let round = 0; round < rounds; round++) {
    for (const [mode, manager] of Object.entries(modes)) {
      for (const inFlight of [1, 64]) {
        const ids = await signedInIds(manager, perRound);
        const key = `${mode}|${inFlight}`;
        samples[key] = [...(samples[key] ?? []), await revoke(manager, ids, inFlight)];
      }
    }
  }
  console.log(
    `\nRedis ${/v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1]}, master + 1 replica on loopback, ${rounds} rounds x ${perRound} revocations\n`,
  );
  console.log('| revocation | in flight | µs / revocation | vs no WAIT |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const inFlight of [1, 64]) {
    const base = median(samples[`no WAIT (default)|${inFlight}`]);
    for (const mode of Object.keys(modes)) {
      const value = median(samples[`${mode}|${inFlight}`]);
      console.log(`| ${mode} | ${inFlight} | ${value.toFixed(1)} | ${(value / base).toFixed(2)}x |`);
    }
  }
} finally {
  client.disconnect();
  revocations.disconnect();
  await replica.destroy();
  await master.destroy();
}
