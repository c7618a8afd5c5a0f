/**
 * The sign-in race of the store conformance suite: sign-ins (new session, regenerate, patch of
 * an anonymous session, switch of a session from one user to another) racing `listSessions`,
 * `revokeUserSessions` and data patches, with the store's own steps interleaved on purpose
 * (see `test/support/interleavings.ts`). A store passes when no live session is missing from its
 * user's index afterwards, and "sign out everywhere" then reaches every session.
 */
import type { StoreSessionManager } from '../../src/core/manager.ts';
import type { SessionStore } from '../../src/core/store.ts';
import { CookieJar } from '../support/fixtures.ts';
import type { Gate } from '../support/interleavings.ts';

type Data = Record<string, unknown>;
type Manager = StoreSessionManager<Data>;

/** What the race needs from the conformance suite. */
export interface RaceContext {
  /** A manager over `store`, on the suite's clock. */
  makeManager(store: SessionStore): Manager;
  /** Handles on the store under test (one per app instance) whose engine calls pass `gate`. */
  instances(gate: Gate): SessionStore[];
  /** An ungated handle, to prepare sessions and to read the end state. */
  readonly reference: SessionStore;
  /** The suite's clock, in seconds. */
  nowSeconds(): number;
}

/** How a session is signed in. */
type SignInKind = 'create' | 'regenerate' | 'patch' | 'switch';
const kinds: readonly SignInKind[] = ['create', 'regenerate', 'patch', 'switch'];

/** A session the race knows about (its id as last seen, so the end state can be checked). */
interface Tracked {
  id: string;
  jar: CookieJar;
}

/** What a race left behind. */
export interface RaceOutcome {
  /** Sign-ins completed. */
  readonly signIns: number;
  /** Live sessions that belong to a user at the end. */
  readonly live: number;
  /** Live sessions missing from their user's `listSessions()`: must be 0. */
  readonly orphans: readonly string[];
  /** Sessions revoked by the racing `revokeUserSessions` calls. */
  readonly revokedDuringRace: number;
  /** Sessions of a user still live after a final `revokeUserSessions` of every user: must be 0. */
  readonly survivors: readonly string[];
}

async function visit(manager: Manager, jar: CookieJar, change: (session: Session) => void): Promise<string> {
  const { session } = await manager.load(jar.header());
  change(session);
  jar.apply(await manager.commit(session));
  return session.id;
}
type Session = Awaited<ReturnType<Manager['load']>>['session'];

/** Prepares, outside the race (ungated), the session a sign-in of `kind` starts from. */
async function prepare(manager: Manager, kind: SignInKind, previousUser: string): Promise<Tracked> {
  const jar = new CookieJar();
  if (kind === 'create') return { id: '', jar };
  const id = await visit(manager, jar, (session) => {
    if (kind === 'switch') session.set('userId', previousUser);
    else session.set('visited', true);
  });
  return { id, jar };
}

/** Signs `tracked` in as `userId` the way `kind` says; records the id the session ends up with. */
async function signIn(manager: Manager, kind: SignInKind, tracked: Tracked, userId: string): Promise<void> {
  if (kind === 'create') tracked.jar = new CookieJar();
  tracked.id = await visit(manager, tracked.jar, (session) => {
    session.set('userId', userId);
    if (kind === 'regenerate') session.regenerate();
  });
}

/**
 * Checks the end state: every live session of a user is listed for that user, then revokes
 * every user's sessions and returns the sessions that survived it.
 */
async function settle(
  context: RaceContext,
  tracked: readonly Tracked[],
  users: readonly string[],
): Promise<Pick<RaceOutcome, 'live' | 'orphans' | 'survivors'>> {
  const manager = context.makeManager(context.reference);
  const now = context.nowSeconds();
  const listed = new Map<string, Set<string>>();
  for (const user of users) listed.set(user, new Set((await manager.listSessions(user)).map((info) => info.id)));
  const orphans: string[] = [];
  let live = 0;
  for (const { id } of tracked) {
    const row = await context.reference.get(id);
    if (row?.userId === undefined || row.expiresAt <= now) continue;
    live++;
    if (!listed.get(row.userId)?.has(id)) orphans.push(id);
  }
  for (const user of users) await manager.revokeUserSessions(user);
  const survivors: string[] = [];
  for (const { id } of tracked) {
    if ((await context.reference.get(id))?.userId !== undefined) survivors.push(id);
  }
  return { live, orphans, survivors };
}

/** Options of {@link raceSignIns}. */
export interface BulkRaceOptions {
  /** How many sign-ins (at least 1,000 in the suite). */
  signIns: number;
  /** Users the sign-ins are spread over (few, so that races on one user are dense; even). */
  users: number;
  /** Sign-ins in flight at once. */
  concurrency: number;
}

/**
 * `signIns` sign-ins, `concurrency` at a time, over a few users, while loops on every instance
 * list those users' sessions, revoke half of the users' sessions and patch signed-in sessions,
 * until the sign-ins are done.
 * Every engine call of the racing instances passes `gate` (random delays).
 */
export async function raceSignIns(context: RaceContext, gate: Gate, options: BulkRaceOptions): Promise<RaceOutcome> {
  const run = Math.random().toString(36).slice(2, 8);
  const users = Array.from({ length: options.users }, (_, index) => `race-${run}-${index}`);
  const userOf = (index: number) => users[index % users.length] as string;
  const setup = context.makeManager(context.reference);
  const tasks = await Promise.all(
    Array.from({ length: options.signIns }, async (_, index) => {
      const kind = kinds[index % kinds.length] as SignInKind;
      // A switch takes a session of one user to the next one.
      return { kind, user: userOf(index), tracked: await prepare(setup, kind, userOf(index + 1)) };
    }),
  );
  const managers = context.instances(gate).map((store) => context.makeManager(store));
  const managerFor = (index: number) => managers[index % managers.length] as Manager;
  let next = 0;
  let done = false;
  let revokedDuringRace = 0;
  const signedIn: Tracked[] = [];
  const signers = Array.from({ length: options.concurrency }, async (_, worker) => {
    for (let index = next++; index < tasks.length; index = next++) {
      const task = tasks[index]!;
      await signIn(managerFor(index + worker), task.kind, task.tracked, task.user);
      signedIn.push(task.tracked);
    }
  });
  // Each racer round starts on a new macrotask: a round that needs no I/O (a jar whose cookie a
  // revocation cleared loads without the store) would otherwise loop on microtasks and starve
  // the sign-ins.
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const racers = managers.flatMap((manager, instance) => [
    (async () => {
      for (let round = instance; !done; round++) {
        await nextTurn();
        await manager.listSessions(userOf(round));
      }
    })(),
    (async () => {
      // Half the users are revoked over and over; the others' sessions are only listed, so
      // plenty of sessions are live at the end for the index check.
      for (let round = instance; !done; round++) {
        await nextTurn();
        const revoked = await manager.revokeUserSessions(userOf(2 * round));
        revokedDuringRace += revoked;
      }
    })(),
    (async () => {
      for (let round = 0; !done; round++) {
        await nextTurn();
        const target = signedIn[(round * 7919) % Math.max(1, signedIn.length)];
        if (target === undefined) continue;
        const loaded = await manager.load(target.jar.header());
        if (loaded.status !== 'valid') continue;
        loaded.session.set(`touch${round % 4}`, round);
        target.jar.apply(await manager.commit(loaded.session));
      }
    })(),
  ]);
  try {
    await Promise.all(signers);
  } finally {
    done = true;
    await Promise.allSettled(racers);
  }
  await Promise.all(racers);
  const tracked = tasks.map((task) => task.tracked);
  return { signIns: tasks.length, revokedDuringRace, ...(await settle(context, tracked, users)) };
}

/**
 * One scheduled round for fast-check: a new session signs in, an anonymous session signs in
 * by patch, a session of another user switches to this user, while the user's sessions are
 * listed and revoked; returns the end state.
 */
export async function scheduledSignInRound(
  context: RaceContext,
  gate: Gate & { drive<T>(work: readonly Promise<T>[]): Promise<PromiseSettledResult<T>[]> },
): Promise<RaceOutcome> {
  const run = Math.random().toString(36).slice(2, 10);
  const user = `sched-${run}`;
  const other = `sched-${run}-other`;
  const setup = context.makeManager(context.reference);
  const fresh: Tracked = await prepare(setup, 'create', other);
  const anonymous = await prepare(setup, 'patch', other);
  const switching = await prepare(setup, 'switch', other);
  const existing = await prepare(setup, 'switch', user);
  const [first, second = first] = context.instances(gate).map((store) => context.makeManager(store)) as [
    Manager,
    Manager?,
  ];
  let revokedDuringRace = 0;
  const outcomes = await gate.drive<unknown>([
    signIn(first, 'create', fresh, user),
    signIn(second, 'patch', anonymous, user),
    signIn(first, 'switch', switching, user),
    second.listSessions(user),
    first.revokeUserSessions(user).then((count) => {
      revokedDuringRace = count;
    }),
  ]);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  const tracked = [fresh, anonymous, switching, existing];
  return { signIns: 3, revokedDuringRace, ...(await settle(context, tracked, [user, other])) };
}
