/**
 * Redis Cluster with replicas as a tested setup: a 3-master / 3-replica cluster started by the
 * test, a master killed (SIGKILL) under load. Requests on the killed shard's slots fail with 503
 * within the store's deadline, every other request keeps working, the client recovers by itself
 * once the replica has taken over, and no acknowledged write is lost. A revoke-all running
 * during the failover reports the sessions it revoked on the healthy shards, and its retry
 * revokes the rest.
 */
import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionKitError, type SessionKitError } from '../../src/core/errors.ts';
import { createSessionManager, type StoreSessionManager } from '../../src/core/manager.ts';
import { redisStore } from '../../src/stores/redis.ts';
import { CookieJar, testSecrets } from '../support/fixtures.ts';
import { clusterNodes, type OwnCluster, startRedisCluster } from '../support/services.ts';

/** The Cluster client options docs/stores.md recommends. */
function recommendedCluster(ports: readonly number[]): Cluster {
  return new Cluster(
    ports.map((port) => ({ host: '127.0.0.1', port })),
    {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      redisOptions: { connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 1 },
    },
  );
}

type Data = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request's outcome during the run. */
interface Outcome {
  readonly kind: 'read' | 'write' | 'sign-in';
  /** Hash slots of the keys the request touched. */
  readonly slots: readonly number[];
  readonly ok: boolean;
  readonly startedAt: number;
  readonly ms: number;
}

describe('redis cluster, 3 masters + 3 replicas: a master killed under load', () => {
  let cluster: OwnCluster;
  beforeAll(async () => {
    // cluster-require-full-coverage no: the healthy shards keep serving while one fails over.
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, requireFullCoverage: false });
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('503 only on the killed shard, recovery by itself, no acknowledged write lost, partial revocation reported', {
    timeout: 60_000,
  }, async () => {
    const operationTimeoutMs = 1000;
    const prefix = 'skf:';
    const client = recommendedCluster(cluster.ports);
    client.on('error', () => {}); // a node dies on purpose; ioredis would log it
    if (client.status !== 'ready') await once(client, 'ready');
    const store = redisStore({ client, prefix, operationTimeoutMs });
    const manager: StoreSessionManager<Data> = createSessionManager({ secrets: testSecrets[0], store });

    // CLUSTER KEYSLOT through one node that stays up (the victim is chosen among the others).
    const masters = clusterNodes(cluster.ports[0] as number).filter((node) => node.role === 'master');
    const slotClients = new Map(masters.map((node) => [node.port, new Redis({ host: '127.0.0.1', port: node.port })]));
    for (const slotClientOf of slotClients.values()) slotClientOf.on('error', () => {});
    let slotClient = slotClients.get(masters[0]!.port)!;
    let running = false;
    const slotOf = async (key: string): Promise<number> => Number(await slotClient.cluster('KEYSLOT', key));
    const owner = (slot: number) =>
      masters.find((node) => node.slots.some(([first, last]) => slot >= first && slot <= last))!;

    try {
      // Sessions for the load (each written by one worker only), and a user to revoke mid-failover.
      const signIn = async (userId: string) => {
        const { session } = await manager.load(null);
        session.set('userId', userId);
        session.set('n', 0);
        const jar = new CookieJar().apply(await manager.commit(session));
        return { id: session.id, jar, slot: await slotOf(store.sessionKey(session.id)) };
      };
      const sessions = await Promise.all(Array.from({ length: 120 }, (_, index) => signIn(`load-${index % 10}`)));
      const revokee = `revokee-${Math.random().toString(36).slice(2)}`;
      const revokeeIndexSlot = await slotOf(store.userKey(revokee));
      // The master to kill: one that holds some of the revokee's sessions but not its index,
      // while other masters hold the rest (12 random ids nearly always spread over 3 shards).
      const revokeeSessions: Awaited<ReturnType<typeof signIn>>[] = [];
      let killed: (typeof masters)[number] | undefined;
      while (killed === undefined) {
        revokeeSessions.push(...(await Promise.all(Array.from({ length: 12 }, () => signIn(revokee)))));
        killed = masters.find(
          (node) =>
            node !== owner(revokeeIndexSlot) &&
            revokeeSessions.some((entry) => owner(entry.slot) === node) &&
            revokeeSessions.some((entry) => owner(entry.slot) !== node),
        );
      }
      const victim = killed;
      slotClient = slotClients.get(masters.find((node) => node !== victim)!.port)!;
      const onVictim = (slot: number) => owner(slot) === victim;

      // Load: 8 workers, each owning 15 sessions, read and write them in turn (counter n), and
      // 2 workers signing new sessions in. Every outcome is recorded with its slots and time.
      const outcomes: Outcome[] = [];
      const acknowledged = new Map<string, number>(); // session id -> last acknowledged n
      const attempted = new Map<string, number>(); // session id -> last attempted n
      const signedIn: { id: string; jar: CookieJar }[] = [];
      running = true;
      const record = async (kind: Outcome['kind'], slots: () => Promise<number[]>, run: () => Promise<unknown>) => {
        const startedAt = Date.now();
        let ok = true;
        try {
          await run();
        } catch (error) {
          if (!isSessionKitError(error, 'ERR_STORE_UNAVAILABLE')) throw error;
          ok = false;
        }
        outcomes.push({ kind, slots: await slots(), ok, startedAt, ms: Date.now() - startedAt });
        return ok;
      };
      const writers = Array.from({ length: 8 }, async (_, worker) => {
        const mine = sessions.slice(worker * 15, worker * 15 + 15);
        for (let round = 0; running; round++) {
          const entry = mine[round % mine.length]!;
          const slots = async () => [entry.slot];
          let loaded: Awaited<ReturnType<typeof manager.load>> | undefined;
          await record('read', slots, async () => {
            loaded = await manager.load(entry.jar.header());
          });
          if (loaded === undefined) continue;
          expect(loaded.status).toBe('valid');
          const value = (attempted.get(entry.id) ?? 0) + 1;
          attempted.set(entry.id, value);
          loaded.session.set('n', value);
          const session = loaded.session;
          if (await record('write', slots, () => manager.commit(session))) acknowledged.set(entry.id, value);
          await sleep(5);
        }
      });
      const signers = Array.from({ length: 2 }, async (_, worker) => {
        for (let round = 0; running; round++) {
          const { session } = await manager.load(null);
          const userId = `new-${worker}-${round % 5}`;
          session.set('userId', userId);
          const jar = new CookieJar();
          const slots = async () => [await slotOf(store.sessionKey(session.id)), await slotOf(store.userKey(userId))];
          if (await record('sign-in', slots, async () => jar.apply(await manager.commit(session)))) {
            signedIn.push({ id: session.id, jar });
          }
          await sleep(10);
        }
      });

      await sleep(800);
      const killedAt = Date.now();
      await cluster.nodes[cluster.ports.indexOf(victim.port)]!.kill();

      // Revoke-all during the failover: the healthy shards' sessions are revoked and reported.
      const revokeStarted = Date.now();
      const partial = (await manager.revokeUserSessions(revokee).catch((error: unknown) => error)) as SessionKitError;
      const revokeMs = Date.now() - revokeStarted;
      expect(isSessionKitError(partial, 'ERR_STORE_UNAVAILABLE'), String(partial)).toBe(true);
      expect(partial.revocation?.complete).toBe(false);
      const healthy = revokeeSessions.filter((entry) => !onVictim(entry.slot)).map((entry) => entry.id);
      expect([...(partial.revocation?.revokedSessionIds ?? [])].sort()).toEqual(healthy.sort());

      // Wait for the replica to take over and for every shard to serve again.
      const survivor = slotClient.options.port as number;
      const promoted = () =>
        clusterNodes(survivor).some(
          (node) =>
            node.role === 'master' &&
            node.id !== victim.id &&
            node.slots.length > 0 &&
            node.slots.some(([first]) => victim.slots.some(([start]) => start === first)),
        );
      const deadline = Date.now() + 30_000;
      while (!promoted() && Date.now() < deadline) await sleep(50);
      expect(promoted(), 'the replica took over the killed master slots').toBe(true);
      const promotedAt = Date.now();
      let recoveredAt: number | undefined;
      while (recoveredAt === undefined && Date.now() < deadline) {
        await sleep(100);
        const recent = outcomes.filter((outcome) => outcome.startedAt > Date.now() - 300);
        const lastFailure = Math.max(0, ...outcomes.filter((outcome) => !outcome.ok).map((o) => o.startedAt + o.ms));
        if (recent.some((o) => o.ok && o.slots.some(onVictim)) && lastFailure < Date.now() - 300) {
          recoveredAt = lastFailure;
        }
      }
      await sleep(300);
      running = false;
      await Promise.all([...writers, ...signers]);
      expect(recoveredAt, 'the killed shard served again').toBeDefined();

      // 503 only on the killed shard's slots, each within the deadline; the other shards served.
      const failed = outcomes.filter((outcome) => !outcome.ok);
      expect(failed.length).toBeGreaterThan(0);
      for (const outcome of failed) expect(outcome.slots.some(onVictim), JSON.stringify(outcome)).toBe(true);
      const longestFailureMs = Math.max(...failed.map((outcome) => outcome.ms));
      expect(longestFailureMs).toBeLessThan(operationTimeoutMs + 500);
      expect(revokeMs).toBeLessThan(operationTimeoutMs + 500);
      const during = outcomes.filter((o) => o.startedAt >= killedAt && o.startedAt <= (recoveredAt ?? 0));
      expect(during.filter((o) => o.ok && !o.slots.some(onVictim)).length).toBeGreaterThan(20);

      // No acknowledged write lost: every session holds its last acknowledged value (or a later
      // attempted one, when a failed request had reached Redis), every acknowledged sign-in loads.
      for (const entry of sessions) {
        const { session, status } = await manager.load(entry.jar.header());
        expect(status).toBe('valid');
        const stored = session.get('n') as number;
        expect(stored).toBeGreaterThanOrEqual(acknowledged.get(entry.id) ?? 0);
        expect(stored).toBeLessThanOrEqual(attempted.get(entry.id) ?? 0);
      }
      for (const entry of signedIn) expect((await manager.load(entry.jar.header())).status).toBe('valid');

      // The retry of the revoke-all revokes the rest: no session of the user is left.
      expect(await manager.revokeUserSessions(revokee)).toBe(revokeeSessions.length - healthy.length);
      for (const entry of revokeeSessions) expect((await manager.load(entry.jar.header())).status).toBe('rejected');
      expect(await manager.listSessions(revokee)).toEqual([]);

      console.info(
        `failover: ${failed.length} of ${outcomes.length} requests failed (all on the killed shard), longest ${longestFailureMs} ms; ` +
          `revoke-all during failover ${revokeMs} ms; replica promoted ${promotedAt - killedAt} ms after the kill; ` +
          `last failure ${(recoveredAt ?? 0) - killedAt} ms after the kill; ${signedIn.length} sign-ins and ` +
          `${outcomes.filter((o) => o.ok && o.kind === 'write').length} writes acknowledged, 0 lost; ` +
          `slowest request on the other shards during the failover ${Math.max(...during.filter((o) => !o.slots.some(onVictim)).map((o) => o.ms))} ms`,
      );
    } finally {
      running = false;
      for (const slotClientOf of slotClients.values()) slotClientOf.disconnect();
      client.disconnect();
    }
  });
});
