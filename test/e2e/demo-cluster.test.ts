/**
 * The demo on a Redis Cluster: one environment variable (SESSIONKIT_DEMO_REDIS_CLUSTER) switches
 * its sessions to a cluster, and a demo pointed at a single cluster node with REDIS_URL (the
 * mistake that used to fail most sign-ins with MOVED, silently) says what to set instead.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnCluster, redisCli, startRedisCluster } from '../support/services.ts';
import { type DemoServer, demoAccounts, startDemo } from './support/demo.ts';
import { csrfTokenOf, HttpClient } from './support/http.ts';

const { user } = demoAccounts;

/** Signs the demo user in; returns the response that ended the attempt (the form page or its POST). */
async function signIn(server: DemoServer): Promise<{ client: HttpClient; response: Response }> {
  const client = new HttpClient();
  const form = await client.fetch(`${server.url}/login`);
  if (form.status !== 200) return { client, response: form };
  const response = await client.postForm(`${server.url}/login`, {
    csrf_token: csrfTokenOf(await form.text()),
    email: user.email,
    password: user.password,
  });
  return { client, response };
}

async function waitForOutput(server: DemoServer, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return server.output();
}

describe('the demo on a Redis Cluster', () => {
  let cluster: OwnCluster;
  const prefix = `sessionkit-e2e-${randomBytes(6).toString('hex')}:`;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('SESSIONKIT_DEMO_REDIS_CLUSTER alone switches sessions to the cluster: 20 sign-ins of 20 work', async () => {
    const demo = await startDemo({
      env: {
        SESSIONKIT_DEMO_REDIS_CLUSTER: cluster.ports.map((port) => `127.0.0.1:${port}`).join(','),
        SESSIONKIT_DEMO_REDIS_PREFIX: prefix,
      },
    });
    try {
      for (let index = 0; index < 20; index++) {
        const { client, response } = await signIn(demo);
        expect(response.status, demo.output()).toBe(303);
        expect(response.headers.get('location')).toBe('/dashboard');
        const dashboard = await client.fetch(`${demo.url}/dashboard`);
        expect(dashboard.status).toBe(200);
        expect(await dashboard.text()).toContain('Sessions in <strong>Redis Cluster</strong>');
      }
      // The sessions are spread over the masters, as a cluster spreads them.
      const perNode = cluster.ports.map(
        (port) =>
          redisCli(port, '--scan', '--pattern', `${prefix}s:*`)
            .split('\n')
            .filter((line) => line !== '').length,
      );
      expect(perNode.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(20);
      expect(perNode.filter((count) => count > 0).length).toBeGreaterThan(1);
      expect(demo.output()).not.toMatch(/\[demo\]|session store unavailable/);
    } finally {
      await demo.stop();
    }
  });

  it('pointed at one cluster node with REDIS_URL, the demo says at start what to set instead', async () => {
    const [port] = cluster.ports;
    const demo = await startDemo({
      env: {
        SESSIONKIT_DEMO_STORE: 'redis',
        REDIS_URL: `redis://127.0.0.1:${port}`,
        SESSIONKIT_DEMO_REDIS_PREFIX: prefix,
      },
    });
    try {
      const output = await waitForOutput(demo, /is a node of a Redis Cluster/);
      expect(output).toContain(
        `[demo] REDIS_URL=redis://127.0.0.1:${port} is a node of a Redis Cluster: most sign-ins would fail (503). Set SESSIONKIT_DEMO_REDIS_CLUSTER=127.0.0.1:${port}`,
      );
      // And each failing request's log line names the cause and the fix. (Which sign-ins fail
      // depends on where the user's index and each new session hash: often all of them.)
      const statuses: number[] = [];
      for (let index = 0; index < 10; index++) statuses.push((await signIn(demo)).response.status);
      expect(statuses).toContain(503);
      expect(await waitForOutput(demo, /Pass an ioredis Cluster client/)).toMatch(
        /session store unavailable[\s\S]*the server is a Redis Cluster node\. Pass an ioredis Cluster client/,
      );
    } finally {
      await demo.stop();
    }
  });

  it('SESSIONKIT_DEMO_REDIS_CLUSTER that is not host:port,... is refused with a message naming it', async () => {
    const demo = await startDemo({ env: { SESSIONKIT_DEMO_REDIS_CLUSTER: 'redis://127.0.0.1:7000' } });
    try {
      expect((await fetch(`${demo.url}/`)).status).toBe(500);
      expect(await waitForOutput(demo, /SESSIONKIT_DEMO_REDIS_CLUSTER must/)).toContain(
        'SESSIONKIT_DEMO_REDIS_CLUSTER must list cluster nodes as host:port,host:port,... (e.g. 127.0.0.1:7000,127.0.0.1:7001), got "redis://127.0.0.1:7000".',
      );
    } finally {
      await demo.stop();
    }
  });
});
