// iron-session 9 options: the password comes from the benchmark (32+ characters).
const password = process.env.BENCH_IRON_PASSWORD;
if (!password || password.length < 32) throw new Error('bench iron: set BENCH_IRON_PASSWORD (32+ characters).');

export const ironOptions = {
  password,
  cookieName: 'iron',
  ttl: 86400,
  cookieOptions: { secure: true, httpOnly: true, sameSite: 'lax', path: '/' },
};
