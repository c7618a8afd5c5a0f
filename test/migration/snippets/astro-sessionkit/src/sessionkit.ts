// src/sessionkit.ts
import { defineSessionkit } from 'sessionkit/astro/config';
import { plans } from './lib/plans.ts';

export default defineSessionkit({
  protect: [
    // `plans` is an import: this rule could not live in astro.config.mjs
    { pattern: '/premium/**', allow: (session) => plans.isPremium(session.subscription) },
  ],
});
