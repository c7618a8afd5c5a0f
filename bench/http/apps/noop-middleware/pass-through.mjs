// A middleware that does nothing but call the next one: what the Astro pipeline costs for an
// integration's middleware before that middleware does any work.
export const onRequest = (_context, next) => next();
