/**
 * Two demo instances (two processes on two ports of 127.0.0.1) sharing one Redis: a session
 * signed in on one is valid on the other, and a revocation on either is seen by both.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRedis } from '../support/services.ts';
import { type DemoServer, demoAccounts, newDataDir, newSecret, startDemo } from './support/demo.ts';
import { csrfTokenOf, HttpClient, signInWithForm } from './support/http.ts';

const { user } = demoAccounts;

function redisKeys(pattern: string): string[] {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--scan', '--pattern', pattern], {
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter((line) => line !== '');
}

async function signIn(client: HttpClient, server: DemoServer): Promise<void> {
  const response = await signInWithForm(client, server.url, user);
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe('/dashboard');
}

describe('two demo instances sharing one Redis', () => {
  const prefix = `sessionkit-e2e-${randomBytes(6).toString('hex')}:`;
  const dataDir = newDataDir();
  let a: DemoServer;
  let b: DemoServer;

  beforeAll(async () => {
    await ensureRedis();
    // Same build, same secret, same users (one data folder), sessions in one Redis.
    const shared = {
      dataDir,
      secret: newSecret(),
      env: {
        SESSIONKIT_DEMO_STORE: 'redis',
        REDIS_URL: 'redis://127.0.0.1:6379',
        SESSIONKIT_DEMO_REDIS_PREFIX: prefix,
      },
    };
    [a, b] = await Promise.all([startDemo(shared), startDemo(shared)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    const keys = redisKeys(`${prefix}*`);
    if (keys.length > 0) spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'del', ...keys]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in on A, uses the session on B, revokes it on B, and A rejects it', async () => {
    expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
    const laptop = new HttpClient();
    await signIn(laptop, a);
    const sessionCookie = laptop.jar.get('__Host-session');
    expect(sessionCookie).toBeDefined();
    expect(redisKeys(`${prefix}s:*`).length).toBeGreaterThan(0);

    // The session signed in on A works on B.
    const onB = await laptop.fetch(`${b.url}/dashboard`);
    expect(onB.status, b.output()).toBe(200);
    const dashboard = await onB.text();
    expect(dashboard).toContain(`Hello, ${user.name}`);
    expect(dashboard).toContain('Signed in as'); // the flash set on A is read on B
    const me = await laptop.fetch(`${b.url}/api/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email: user.email } });

    // Another device signs in on B and revokes the laptop's session from "your devices" on B.
    const phone = new HttpClient();
    await signIn(phone, b);
    const devices = await phone.page(`${b.url}/devices`);
    const rows = [...devices.matchAll(/<tr data-session="(current|other)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((row) => row[1]).sort()).toEqual(['current', 'other']);
    const other = rows.find((row) => row[1] === 'other')?.[2] ?? '';
    const laptopSessionId = /name="session_id" value="([^"]+)"/.exec(other)?.[1];
    expect(laptopSessionId).toBeDefined();
    expect(sessionCookie?.startsWith(`${laptopSessionId}.`)).toBe(true);
    const revoked = await phone.postForm(`${b.url}/devices`, {
      csrf_token: csrfTokenOf(devices),
      action: 'revoke',
      session_id: laptopSessionId!,
    });
    expect(revoked.status).toBe(303);
    expect(await phone.page(`${b.url}/devices`)).toContain('That device has been signed out.');

    // A rejects the revoked session at once: pages go to sign-in, the API says 401.
    const back = await laptop.fetch(`${a.url}/dashboard`);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/login?returnTo=%2Fdashboard');
    expect((await laptop.fetch(`${a.url}/api/me`)).status).toBe(401);

    // The phone's session, signed in on B, is valid on A.
    expect((await phone.fetch(`${a.url}/dashboard`)).status).toBe(200);
  });
});
