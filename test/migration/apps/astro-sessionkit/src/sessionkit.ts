// The README's "Custom Logic" rule: a function, so it lives here rather than in astro.config.mjs.
import { defineSessionkit } from 'sessionkit/astro/config';

export default defineSessionkit({
  secrets: ['-TMurLDnjZ4se53Q3i72RZn9g6kxSVyYsEXaQshha0o'], // test-only, from `npx sessionkit secret`
  protect: [
    {
      pattern: '/premium/**',
      allow: (session) => {
        return session?.subscription === 'premium' && !session?.banned;
      },
    },
  ],
});
