import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CookieJar, createTestClock, testSecrets } from '../../test/support/fixtures.ts';
import type { SessionEvent } from './events.ts';
import { createSessionManager, sessionOperationsOf } from './manager.ts';
import type { StandardSchemaV1 } from './schema.ts';

type Data = { userId?: string; cart?: { items: string[] }; count?: number };

function setup(options: Partial<Parameters<typeof createSessionManager<Data>>[0]> = {}) {
  const clock = createTestClock();
  const events: SessionEvent[] = [];
  const manager = createSessionManager<Data>({
    secrets: testSecrets[0],
    now: clock.now,
    onEvent: (event) => events.push(event),
    expiry: { absoluteTimeoutSeconds: 3600, idleTimeoutSeconds: 600, renewAfterFraction: 0.5 },
    ...options,
  });
  return { clock, events, manager, jar: new CookieJar() };
}

describe('createSessionManager', () => {
  it('round-trips any JSON value', async () => {
    const { manager } = setup();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const { session } = await manager.load(null);
        (session as unknown as { set(k: string, v: unknown): void }).set('value', value);
        const header = (await manager.commit(session)).map((line) => line.split(';')[0]).join('; ');
        const expected = JSON.parse(JSON.stringify({ value }));
        const loaded = await manager.load(header);
        expect(loaded.status).toBe('valid');
        expect(loaded.session.data).toEqual(expected);
        // A repeat of the same cookie is served from the remembered payload: still its own copy.
        const data = loaded.session.data as { value: unknown };
        if (typeof data.value === 'object' && data.value !== null) Object.assign(data.value, { mutated: true });
        const again = await manager.load(header);
        expect(again.session.data).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('commit() refuses a handle of another manager, or anything else, with a rejected promise', async () => {
    const { manager } = setup();
    const { manager: other } = setup();
    const { session } = await other.load(null);
    for (const foreign of [session, {}, null, 'session']) {
      const result = manager.commit(foreign as never);
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    }
    expect(await other.commit(session)).toEqual([]);
  });

  it('a new, untouched session sets no cookie; an unchanged loaded session costs no Set-Cookie', async () => {
    const { manager, jar } = setup();
    const first = await manager.load(null);
    expect(first.status).toBe('new');
    expect(await manager.commit(first.session)).toEqual([]);
    first.session.set('userId', 'u1');
    jar.apply(await manager.commit(first.session));
    const second = await manager.load(jar.header());
    expect(second.status).toBe('valid');
    expect(second.session.get('userId')).toBe('u1');
    expect(await manager.commit(second.session)).toEqual([]);
  });

  it('loads from a Request, Headers, a header string or nothing', async () => {
    const { manager, jar } = setup();
    const { session } = await manager.load(undefined);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    const header = jar.header();
    for (const input of [
      header,
      new Headers({ cookie: header }),
      new Request('https://x.test/', { headers: { cookie: header } }),
    ]) {
      expect((await manager.load(input)).session.get('userId')).toBe('u1');
    }
  });

  it('enforces the idle timeout inside the token (a kept cookie is refused after it)', async () => {
    const { manager, jar, clock, events } = setup();
    const { session } = await manager.load(null);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    const replayed = jar.header();
    clock.advanceSeconds(601);
    const late = await manager.load(replayed);
    expect(late).toMatchObject({ status: 'rejected', reason: 'expired' });
    expect(late.session.get('userId')).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'session.rejected', reason: 'expired' });
    const cleared = (await manager.commit(late.session)).map((line) => parseSetCookie(line));
    expect(cleared).toEqual([expect.objectContaining({ name: '__Host-session', maxAge: 0 })]);
  });

  it('rolling renewal is throttled, and the absolute timeout is never extended', async () => {
    const { manager, jar, clock, events } = setup();
    const { session } = await manager.load(null);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    clock.advanceSeconds(200); // < 50% of the 600 s idle window
    expect(await manager.commit((await manager.load(jar.header())).session)).toEqual([]);
    clock.advanceSeconds(150); // 350 s since renewal: due
    const renewed = await manager.commit((await manager.load(jar.header())).session);
    expect(renewed).toHaveLength(1);
    expect(parseSetCookie(renewed[0]!).maxAge).toBe(600);
    expect(events.at(-1)).toMatchObject({ type: 'session.renewed' });
    jar.apply(renewed);
    // keep the session busy until the absolute limit (3600 s from creation)
    let elapsed = 350;
    while (elapsed + 400 < 3600) {
      clock.advanceSeconds(400);
      elapsed += 400;
      const loaded = await manager.load(jar.header());
      expect(loaded.status).toBe('valid');
      const cookies = await manager.commit(loaded.session);
      jar.apply(cookies);
      for (const line of cookies) expect(parseSetCookie(line).maxAge).toBe(Math.min(600, 3600 - elapsed));
    }
    clock.advanceSeconds(400);
    expect(await manager.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'expired' });
  });

  it('a policy shortened after issue applies to existing cookies', async () => {
    const { manager, jar, clock } = setup();
    const { session } = await manager.load(null);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    clock.advanceSeconds(120);
    const stricter = createSessionManager<Data>({
      secrets: testSecrets[0],
      now: clock.now,
      expiry: { idleTimeoutSeconds: 60 },
    });
    expect(await stricter.load(jar.header())).toMatchObject({ status: 'rejected', reason: 'expired' });
  });

  it('rotation: old cookies still open and are re-sealed under the newest secret', async () => {
    const clock = createTestClock();
    const before = createSessionManager<Data>({ secrets: testSecrets[1], now: clock.now });
    const after = createSessionManager<Data>({ secrets: [testSecrets[0], testSecrets[1]], now: clock.now });
    const onlyNew = createSessionManager<Data>({ secrets: testSecrets[0], now: clock.now });
    const jar = new CookieJar();
    const { session } = await before.load(null);
    session.set('userId', 'u1');
    jar.apply(await before.commit(session));
    const loaded = await after.load(jar.header());
    expect(loaded.session.get('userId')).toBe('u1');
    const resealed = await after.commit(loaded.session);
    expect(resealed).toHaveLength(1);
    jar.apply(resealed);
    expect((await onlyNew.load(jar.header())).session.get('userId')).toBe('u1');
  });

  it('logs a wrong key differently from a tampered cookie', async () => {
    const warn = vi.fn();
    const { manager } = setup({ logger: { warn } });
    const other = createSessionManager<Data>({ secrets: testSecrets[2] });
    const { session } = await other.load(null);
    session.set('userId', 'u1');
    const foreign = (await other.commit(session))[0]!.split(';')[0]!;
    expect(await manager.load(foreign)).toMatchObject({ status: 'rejected', reason: 'unknown_key' });
    expect(warn).toHaveBeenLastCalledWith(
      expect.stringContaining('key that is not configured'),
      expect.objectContaining({ reason: 'unknown_key' }),
    );
    const own = await manager.load(null);
    own.session.set('userId', 'u1');
    const token = (await manager.commit(own.session))[0]!.split(';')[0]!;
    const tampered = token.slice(0, -3) + (token.at(-3) === 'x' ? 'y' : 'x') + token.slice(-2);
    expect(await manager.load(tampered)).toMatchObject({ status: 'rejected', reason: 'tampered' });
    expect(warn).toHaveBeenLastCalledWith(
      expect.stringContaining('rejected: tampered'),
      expect.objectContaining({ reason: 'tampered' }),
    );
    for (const call of warn.mock.calls) expect(JSON.stringify(call)).not.toContain('u1');
  });

  it('defaults are deep-cloned per session: no data shared between requests or users', async () => {
    const defaults = { cart: { items: [] as string[] }, count: 0 };
    const { manager, jar } = setup({ defaults });
    const alice = (await manager.load(null)).session;
    const bob = (await manager.load(null)).session;
    alice.data.cart!.items.push('alice-secret');
    alice.set('cart', (cart) => ({ items: [...(cart?.items ?? []), 'more'] }));
    expect(bob.get('cart')).toEqual({ items: [] });
    expect(defaults.cart.items).toEqual([]);
    expect((await manager.load(null)).session.get('cart')).toEqual({ items: [] });
    // loaded sessions missing a default key get their own copy too
    const carol = (await manager.load(null)).session;
    carol.unset('cart');
    carol.set('userId', 'c');
    jar.apply(await manager.commit(carol));
    const first = (await manager.load(jar.header())).session;
    const second = (await manager.load(jar.header())).session;
    first.data.cart!.items.push('x');
    expect(second.get('cart')).toEqual({ items: [] });
  });

  it('validates loaded data with a Standard Schema', async () => {
    const schema: StandardSchemaV1<unknown, Data> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) =>
          typeof (value as Data).userId === 'string' || (value as Data).userId === undefined
            ? { value: value as Data }
            : { issues: [{ message: 'userId must be a string' }] },
      },
    };
    const loose = createSessionManager<Record<string, unknown>>({ secrets: testSecrets[0] });
    const strict = createSessionManager<Data>({ secrets: testSecrets[0], schema });
    const { session } = await loose.load(null);
    session.set('userId', 42);
    const header = (await loose.commit(session))[0]!.split(';')[0]!;
    expect(await strict.load(header)).toMatchObject({ status: 'rejected', reason: 'invalid_data' });
    session.set('userId', 'ok');
    const good = (await loose.commit(session))[0]!.split(';')[0]!;
    expect(await strict.load(good)).toMatchObject({ status: 'valid' });
  });

  it('refuses oversized cookie values before any cryptography', async () => {
    const { manager } = setup();
    expect(await manager.load(`__Host-session=v1.${'A'.repeat(20_000)}`)).toMatchObject({
      status: 'rejected',
      reason: 'malformed',
    });
  });

  it('regenerate() + commit emits a rotation with both ids; destroy() clears the cookie', async () => {
    const { manager, jar, events } = setup();
    const { session } = await manager.load(null);
    session.set('userId', 'u1');
    jar.apply(await manager.commit(session));
    const loaded = (await manager.load(jar.header())).session;
    const oldId = loaded.id;
    loaded.regenerate();
    jar.apply(await manager.commit(loaded));
    expect(events.at(-1)).toEqual({ type: 'session.rotated', sessionId: loaded.id, previousSessionId: oldId });
    const again = (await manager.load(jar.header())).session;
    expect(again.id).toBe(loaded.id);
    again.destroy();
    jar.apply(await manager.commit(again));
    expect(jar.names()).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'session.destroyed' });
  });

  it('works end to end on the WebCrypto engine', async () => {
    const { manager, jar } = setup({ cryptoEngine: 'webcrypto' });
    const { session } = await manager.load(null);
    session.set('userId', 'web');
    jar.apply(await manager.commit(session));
    expect((await manager.load(jar.header())).session.get('userId')).toBe('web');
  });

  it('rejects bad configuration at construction with hints', () => {
    expect(() => createSessionManager({} as never)).toThrow(/"secrets" is required/);
    expect(() => createSessionManager({ secrets: testSecrets[0], expirey: {} } as never)).toThrow(
      /Did you mean "expiry"/,
    );
    expect(() =>
      createSessionManager({ secrets: testSecrets[0], expiry: { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 5 } }),
    ).toThrow(/idle/);
    expect(() => createSessionManager({ secrets: testSecrets[0], expiry: { renewAfterFraction: 2 } })).toThrow(
      /renewAfterFraction/,
    );
    expect(() => createSessionManager({ secrets: testSecrets[0], schema: {} as never })).toThrow(/Standard Schema/);
  });

  it('never throws for any cookie header', async () => {
    const { manager } = setup();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), async (junk, value) => {
        await manager.load(junk);
        const result = await manager.load(`__Host-session=${value}`);
        expect(['new', 'rejected']).toContain(result.status);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('sessionOperationsOf (the request pipeline)', () => {
  it('loads a remembered cookie and commits an unchanged session without a promise; anything else waits', async () => {
    const { manager } = setup();
    const immediate = sessionOperationsOf(manager);
    const created = await manager.load(null);
    created.session.set('userId', 'u_1');
    const header = (await manager.commit(created.session)).map((line) => line.split(';')[0]).join('; ');

    const loaded = immediate.load(header);
    expect(loaded).not.toBeInstanceOf(Promise);
    const { session, status } = loaded as Awaited<typeof loaded>;
    expect(status).toBe('valid');
    expect(session.data.userId).toBe('u_1');
    expect(immediate.commit(session)).toEqual([]);

    // A change has to be sealed: that waits.
    session.set('count', 1);
    const committing = immediate.commit(session);
    expect(committing).toBeInstanceOf(Promise);
    expect(await committing).toHaveLength(1);
  });

  it('refuses an object that is not one of its managers', () => {
    const lookalike = { ...setup().manager };
    expect(() => sessionOperationsOf(lookalike)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});
