// The README's "Custom Context Store", with Node's AsyncLocalStorage as the custom storage. The
// functions live here, not in astro.config.mjs. It counts its calls so the test can see them used.
import { AsyncLocalStorage } from 'node:async_hooks';
import { defineSessionkit } from 'sessionkit/astro/config';
import type { RequestSessionState } from 'sessionkit/server';

const myCustomStorage = new AsyncLocalStorage<RequestSessionState>();
export const contextStoreCalls = { run: 0, get: 0 };

export default defineSessionkit({
  // Provide a custom way to run code within a context
  runWithContext: (context, fn) => {
    contextStoreCalls.run++;
    return myCustomStorage.run(context, fn);
  },

  // Provide a custom way to retrieve the current context
  getContextStore: () => {
    contextStoreCalls.get++;
    return myCustomStorage.getStore();
  },
});
