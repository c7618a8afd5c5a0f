// src/sessionkit.ts
import { defineSessionkit } from 'sessionkit/astro/config';
import { plans } from './lib/plans.ts';

export default defineSessionkit({
  protect: [
    // `plans` is an import: this rule could not work from astro.config.mjs
    { pattern: '/premium/**', allow: (session) => plans.isPremium(session.subscription) },
  ],
  access: {
    // Custom role extraction
    getRole: (session) => (session.primaryRole as string | undefined) ?? null,

    // Custom permissions extraction
    getPermissions: (session) => [
      ...((session.permissions as string[] | undefined) ?? []),
      ...((session.dynamicPerms as string[] | undefined) ?? []),
    ],
  },
});
