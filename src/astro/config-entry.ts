/**
 * `sessionkit/astro/config`: helpers for the runtime config file `src/sessionkit.ts`.
 * Safe to import in the server bundle (no build-time dependencies).
 *
 * @module
 */
export type { AstroGuardContext, SessionkitManagerOf, SessionkitRule, SessionkitRuntimeConfig } from './config.ts';
export { defineSessionkit } from './config.ts';
