/**
 * Compile-time tests of the session types with no app-wide declaration (the default data type).
 * Checked by `npm run typecheck`; a line marked `@ts-expect-error` must fail to compile, and the
 * directive itself fails the typecheck when it does not (TS2578).
 */
import { createCookieSessionStorage, type SessionData, type SessionHandle } from 'sessionkit';
import type { Session as AstroSessionkitSession, ProtectionRule } from 'sessionkit/compat/astro-sessionkit';
import { getSession, type getSessionHandle, requireSession, setSession, updateSession } from 'sessionkit/server';

/** True when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const secret = 'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni';

// as-02: astro-session's README: typed data with defaults. Keys are checked, values present.
type CounterData = { count: number; user: { id: string } | null };
const counter = createCookieSessionStorage<CounterData>({ count: 0, user: null }, { cookie: { secret } });

export async function astroSessionReadme(request: Request): Promise<void> {
  const session = await counter.getSession(request);
  session.set('count', session.get('count') + 1); // the README's form: `count` is a number, not number | undefined
  session.set('count', (value) => value + 1); // the updater's parameter is typed (number)
  assertType<Equal<ReturnType<typeof session.get<'count'>>, number>>();
  // @ts-expect-error a mistyped key does not compile
  session.get('cuont');
  // @ts-expect-error nor does a mistyped key when setting
  session.set('cuont', 1);
  // @ts-expect-error nor a value of the wrong type
  session.set('count', 'one');
  // @ts-expect-error a key with a default cannot be unset (it would read as present)
  session.unset('count');
  session.flash('error', 'Invalid email/password'); // flash keys are free unless declared
  const error: unknown = session.flash('error');
  void error;
  void (await counter.commitSession(session));
}

// The Remix shape: no defaults, so every key may be absent.
const remix = createCookieSessionStorage<{ userId: string }>({ cookie: { secrets: [secret] } });
export async function remixShape(request: Request): Promise<void> {
  const session = await remix.getSession(request);
  assertType<Equal<ReturnType<typeof session.get<'userId'>>, string | undefined>>();
  session.unset('userId');
}

// Declared flash keys are typed separately from data keys.
const flashing = createCookieSessionStorage<{ count: number }, { notice: string }>(
  { count: 0 },
  { cookie: { secret } },
);
export async function declaredFlash(request: Request): Promise<void> {
  const session = await flashing.getSession(request);
  session.flash('notice', 'Saved');
  assertType<Equal<ReturnType<typeof session.flash<'notice'>>, string | undefined>>();
  assertType<Equal<ReturnType<typeof session.get<'notice'>>, string | undefined>>();
  // @ts-expect-error an undeclared flash key
  session.flash('notise', 'Saved');
  // @ts-expect-error a flash value of the wrong type
  session.flash('notice', 42);
}

// The default data type: any key, values unknown, and an updater still gets a typed parameter
// (no TS7006 "implicitly has an 'any' type" under strict).
export function defaultData(handle: SessionHandle): void {
  assertType<Equal<SessionData, Record<string, unknown>>>();
  handle.set('count', (count) => (typeof count === 'number' ? count : 0) + 1);
  const value: unknown = handle.get('anything');
  void value;
  assertType<
    Equal<ReturnType<typeof getSessionHandle>, SessionHandle<Record<string, unknown>, Record<string, unknown>>>
  >();
}

// sessionkit/server without a declaration: astro-sessionkit's session shape.
export async function serverHelpers(): Promise<void> {
  const session = requireSession();
  assertType<Equal<typeof session.userId, string>>();
  const email: string | undefined = session.email;
  void email;
  const maybe = getSession();
  if (maybe !== null) void maybe.permissions?.includes('posts:write');
  // @ts-expect-error requireSession is typed by the declaration, not by a casting type argument
  requireSession<{ userId: string; admin: true }>();
  await setSession({ userId: 'u_1', role: 'admin' }, { ttl: 3600 });
  await updateSession({ role: 'user' }, { ttl: 60 });
  // @ts-expect-error a session needs a userId
  await setSession({ email: 'a@example.com' });
  // @ts-expect-error ttl is a number of seconds
  await setSession({ userId: 'u_1' }, { ttl: '1h' });
}

// ask-28: astro-sessionkit's type names keep their meaning under the compat subpath.
export function astroSessionkitNames(session: AstroSessionkitSession): string {
  const rule: ProtectionRule = { pattern: '/premium/**', allow: (data) => data.subscription === 'premium' };
  void rule;
  // @ts-expect-error astro-sessionkit's Session is the data, not the handle: it has no get()
  session.get('userId');
  return session.userId;
}
