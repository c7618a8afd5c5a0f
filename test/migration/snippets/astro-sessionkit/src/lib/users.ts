// Test stand-in for the app's own credential check (not part of the migration guide).
type User = { id: string; email: string; role: string; permissions: string[] };

const users: Record<string, { password: string; user: User }> = {
  'admin@example.com': {
    password: 'correct horse',
    user: { id: 'u_admin', email: 'admin@example.com', role: 'admin', permissions: ['settings:write'] },
  },
};

export async function verifyCredentials(email: unknown, password: unknown): Promise<User | null> {
  const entry = typeof email === 'string' ? users[email] : undefined;
  return entry !== undefined && entry.password === password ? entry.user : null;
}
