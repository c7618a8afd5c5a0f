// The README's "Custom Logic" rule: a function, so it lives here rather than in astro.config.mjs.
import { defineSessionkit } from 'sessionkit/astro/config';

export default defineSessionkit({
  secrets: ['conformance-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG'],
  protect: [
    {
      pattern: '/premium/**',
      allow: (session) => {
        return session?.subscription === 'premium' && !session?.banned;
      },
    },
  ],
});
