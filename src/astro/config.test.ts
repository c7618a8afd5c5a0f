import { describe, expect, it } from 'vitest';
import type { RequestSessionState } from '../pipeline/state.ts';
import { memoryStore } from '../stores/memory.ts';
import { defineSessionkit, type SessionkitManagerOf } from './config.ts';
import { localsTypes } from './integration.ts';

describe('defineSessionkit and the type of Astro.locals.sessionkit', () => {
  it('types the manager for a store exactly when the runtime config sets one (compile-time checks)', () => {
    const withStore = defineSessionkit({ store: memoryStore() });
    const cookieOnly = defineSessionkit({
      protect: [{ pattern: '/x/**', allow: (session) => session.team === 'red' }],
    });
    type StoreState = RequestSessionState<Record<string, unknown>, SessionkitManagerOf<typeof withStore>>;
    type CookieState = RequestSessionState<Record<string, unknown>, SessionkitManagerOf<typeof cookieOnly>>;
    const storeMode = (state: StoreState) => state.manager.listSessions('u_1');
    // @ts-expect-error a cookie-mode manager has no listSessions
    const cookieMode = (state: CookieState) => state.manager.listSessions('u_1');
    expect([typeof storeMode, typeof cookieMode]).toEqual(['function', 'function']);
    expect(withStore.store).toBeDefined();
  });

  it('writes the locals type against the app runtime config file, relative to the types folder', () => {
    const root = new URL('file:///projects/app/');
    expect(localsTypes(root, '/projects/app/src/sessionkit.ts')).toContain(
      'SessionkitManagerOf<typeof import("../../../src/sessionkit").default>',
    );
    expect(localsTypes(root, undefined)).toContain(
      "import('sessionkit').CookieSessionManager<Record<string, unknown>>",
    );
  });
});
