/**
 * Compile-time tests of one app-wide declaration (`sessionkit-types.ts`): every helper picks it
 * up. Checked by `npm run typecheck` (`tsc -p test/types/declared`).
 */
import {
  createCookieSessionStorage,
  createSessionkit,
  type SessionData,
  type SessionFlashData,
  type SessionHandle,
} from 'sessionkit';
import { getSession, getSessionHandle, requireSession, setSession, updateSession } from 'sessionkit/server';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

type Declared = {
  userId?: string;
  email?: string;
  role?: string;
  permissions?: string[];
  count: number;
  cart: { items: string[] };
};

assertType<Equal<SessionData, Declared>>();
assertType<Equal<SessionFlashData, { notice: string; error: string }>>();

export function handles(): void {
  const session = getSessionHandle();
  assertType<Equal<typeof session, SessionHandle<Declared, { notice: string; error: string }>>>();
  session.set('count', (count) => count + 1); // typed parameter: number
  assertType<Equal<ReturnType<typeof session.get<'count'>>, number>>(); // declared without `?`: present
  assertType<Equal<ReturnType<typeof session.get<'email'>>, string | undefined>>();
  // @ts-expect-error a typo in a data key
  session.get('cuont');
  // @ts-expect-error a typo in a flash key
  session.flash('notise', 'x');
  session.flash('notice', 'Saved');
  // @ts-expect-error a flash value of the wrong type
  session.flash('error', 404);
  session.unset('email');
  // @ts-expect-error a key declared as always present cannot be unset
  session.unset('count');
}

export async function signedIn(): Promise<void> {
  const user = requireSession();
  assertType<Equal<typeof user.userId, string>>(); // signed in: userId is there
  assertType<Equal<typeof user.count, number>>();
  // @ts-expect-error not a declared field
  void user.subscription;
  const maybe = getSession();
  if (maybe !== null) void maybe.cart.items;
  await setSession({ userId: 'u_1', count: 0, cart: { items: [] } }, { ttl: 600 });
  // @ts-expect-error the declared data needs every key without `?`
  await setSession({ userId: 'u_1' });
  await updateSession({ role: 'admin' });
  // @ts-expect-error not a declared field
  await updateSession({ rol: 'admin' });
}

// The pipeline's request state and createCookieSessionStorage() default to the declaration too.
const kit = createSessionkit({ secrets: 'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni' });
export function pipelineState(request: Request): Promise<Response> {
  return kit.handle(request, (state) => {
    // @ts-expect-error a typo, through locals / the request state
    state.session.get('cuont');
    return new Response(String(state.session.get('count')));
  });
}

const storage = createCookieSessionStorage({ cookie: { secrets: ['f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni'] } });
export async function storageDefault(request: Request): Promise<void> {
  const session = await storage.getSession(request);
  // Without defaults a new session is empty: every key may be absent.
  assertType<Equal<ReturnType<typeof session.get<'count'>>, number | undefined>>();
  // @ts-expect-error a typo
  session.get('cuont');
}
