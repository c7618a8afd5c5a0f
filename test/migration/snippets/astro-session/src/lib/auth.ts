// Test stand-in for the app's own credential check (not part of the migration guide).
import type { User } from '../session.ts';

const users: Record<string, { password: string; user: User }> = {
  'ada@example.com': { password: 'correct horse', user: { id: 'u_ada', email: 'ada@example.com' } },
};

export async function validateCredentials(
  email: FormDataEntryValue | null,
  password: FormDataEntryValue | null,
): Promise<User | null> {
  const entry = typeof email === 'string' ? users[email] : undefined;
  return entry !== undefined && entry.password === password ? entry.user : null;
}
