// A stand-in for "your users table and password hashing" (docs/getting-started.md, step 5).
export interface User {
  id: string;
  name: string;
  email: string;
  role: string;
  permissions: string[];
}

export async function verifyCredentials(email: string, password: string): Promise<User | undefined> {
  if (email !== 'ada@example.com' || password !== 'correct horse battery staple') return undefined;
  return { id: 'u_ada', name: 'Ada', email, role: 'admin', permissions: ['reports:read'] };
}
