// The sessionkit integration options of the HTTP suite's sessionkit apps (and of the middleware
// suite, which runs the same middleware outside Astro): the defaults (CSRF on, guard on) plus one
// rule on a path the benchmark never visits, so the page is public and the guard still runs.
// `/login` is CSRF-exempt only so the bench signs in with one POST.
export const sessionkitOptions = {
  protect: [{ pattern: '/admin/**', role: 'admin' }],
  csrf: { exempt: ['/login'] },
};
