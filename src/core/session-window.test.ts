/**
 * A session's own expiry window (a `ttl` at sign-in, `restartSessionWindow`) and `expiry.rolling`,
 * through the manager in cookie and store mode, on a test clock.
 */
import { describe, expect, it } from 'vitest';
import { CookieJar, createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import { memoryStore } from '../stores/memory.ts';
import { type ExpiryOptions, resolveExpiry, sessionWindowOf } from './expiry.ts';
import { createSessionManager } from './manager.ts';
import { restartSessionLifetime, restartSessionWindow } from './session.ts';

type Data = { userId?: string; note?: string };

const hour = 3600;

/** A manager over a clock, in cookie or store mode, and a browser's cookie jar. */
function setup(mode: 'cookie' | 'store', expiry: ExpiryOptions = {}, clock = createTestClock()) {
  const store = mode === 'store' ? memoryStore({ now: clock.now }) : undefined;
  const make = (options: ExpiryOptions) =>
    createSessionManager<Data>({
      secrets: testSecrets[0],
      now: clock.now,
      store,
      expiry: { absoluteTimeoutSeconds: 7 * 24 * hour, idleTimeoutSeconds: 24 * hour, ...options },
    });
  const manager = make(expiry);
  const jar = new CookieJar();
  /** One request: load, run `work`, commit; the load status and the cookie's Max-Age. */
  const request = async (
    work: (session: Awaited<ReturnType<typeof manager.load>>['session']) => void = () => {},
    using = manager,
  ) => {
    const loaded = await using.load(jar.header());
    work(loaded.session);
    const lines = await using.commit(loaded.session);
    jar.apply(lines);
    const maxAge = /Max-Age=(\d+)/i.exec(lines[0] ?? '')?.[1];
    return { status: loaded.status, maxAge: maxAge === undefined ? undefined : Number(maxAge) };
  };
  const signIn = (ttlSeconds?: number) =>
    request((session) => {
      session.set('userId', 'u_1');
      session.regenerate();
      restartSessionLifetime(session);
      restartSessionWindow(session, ttlSeconds);
    });
  return { clock, manager, make, request, signIn };
}

describe.each(['cookie', 'store'] as const)('%s mode: a session with its own ttl', (mode) => {
  it('ends ttl seconds after its last request, and keeps its window through later writes and renewals', async () => {
    const { clock, request, signIn } = setup(mode);
    expect((await signIn(60)).maxAge).toBe(60);
    clock.advanceSeconds(30);
    // A write 30 s later (a flash, a preference) extends by the session's window, not the 24 h idle timeout.
    expect(await request((session) => session.set('note', 'x'))).toEqual({ status: 'valid', maxAge: 60 });
    clock.advanceSeconds(7); // renewal is due after 10% of the window (6 s): an unchanged request renews
    expect(await request()).toEqual({ status: 'valid', maxAge: 60 });
    clock.advanceSeconds(59);
    expect((await request()).status).toBe('valid');
    clock.advanceSeconds(61);
    expect((await request()).status).toBe('rejected');
  });

  it('never outlives its absolute timeout', async () => {
    const { clock, request, signIn } = setup(mode, { absoluteTimeoutSeconds: 100, idleTimeoutSeconds: 100 });
    await signIn(80);
    clock.advanceSeconds(50);
    expect((await request((session) => session.set('note', 'late'))).maxAge).toBe(50);
    clock.advanceSeconds(50);
    expect((await request()).status).toBe('rejected');
  });

  it('a ttl longer than the idle timeout is cut to it', async () => {
    const { signIn } = setup(mode, { idleTimeoutSeconds: 120 });
    expect((await signIn(10_000)).maxAge).toBe(120);
  });

  it('a sign-in without a ttl takes the idle timeout again', async () => {
    const { request, signIn } = setup(mode);
    await signIn(60);
    expect((await signIn()).maxAge).toBe(24 * hour);
    expect((await request((session) => session.set('note', 'y'))).maxAge).toBe(24 * hour);
  });
});

describe.each(['cookie', 'store'] as const)('%s mode: rolling: false (touchOnRequest: false)', (mode) => {
  it('requests and writes never move the expiry; only a sign-in or a ttl does', async () => {
    const { clock, request, signIn } = setup(mode, { rolling: false, idleTimeoutSeconds: 600 });
    expect((await signIn()).maxAge).toBe(600);
    clock.advanceSeconds(300);
    expect(await request()).toEqual({ status: 'valid', maxAge: undefined }); // no renewal
    expect((await request((session) => session.set('note', 'kept'))).maxAge).toBe(300);
    clock.advanceSeconds(299);
    expect((await request()).status).toBe('valid');
    clock.advanceSeconds(1);
    expect((await request()).status).toBe('rejected');
  });

  it('a ttl given later restarts the window once', async () => {
    const { clock, request, signIn } = setup(mode, { rolling: false });
    await signIn(100);
    clock.advanceSeconds(90);
    expect((await request((session) => restartSessionWindow(session, 100))).maxAge).toBe(100);
    clock.advanceSeconds(99);
    expect((await request()).status).toBe('valid');
    clock.advanceSeconds(1);
    expect((await request()).status).toBe('rejected');
  });
});

describe('a changed idle timeout', () => {
  it('a shorter one applies to every session at once; a longer one to sessions signed in after the change', async () => {
    const clock = createTestClock();
    const { make, request, signIn } = setup('cookie', { idleTimeoutSeconds: 600 }, clock);
    await signIn();
    const longer = make({ idleTimeoutSeconds: 1200 });
    clock.advanceSeconds(100);
    expect((await request((session) => session.set('note', 'a'), longer)).maxAge).toBe(600);
    const shorter = make({ idleTimeoutSeconds: 300 });
    clock.advanceSeconds(301);
    expect((await request(() => {}, shorter)).status).toBe('rejected');
  });
});

describe('sessionWindowOf', () => {
  const policy = resolveExpiry({ absoluteTimeoutSeconds: 1000, idleTimeoutSeconds: 100 }, 'test');
  it('reads a record’s own window, else the idle timeout', () => {
    expect(sessionWindowOf(policy, { createdAt: 0, renewedAt: 10, expiresAt: 70 })).toBe(60);
    expect(sessionWindowOf(policy, { createdAt: 0, renewedAt: 10, expiresAt: 110 })).toBe(100);
    expect(sessionWindowOf(policy, { createdAt: 0, renewedAt: 10, expiresAt: 210 })).toBe(100);
    // Cut by the absolute timeout: not a window of its own.
    expect(sessionWindowOf(policy, { createdAt: 0, renewedAt: 950, expiresAt: 1000 })).toBe(100);
  });

  it('rejects a non-boolean rolling', () => {
    expect(() => resolveExpiry({ rolling: 'no' as never }, 'test')).toThrow(/expiry.rolling must be true or false/);
  });
});
