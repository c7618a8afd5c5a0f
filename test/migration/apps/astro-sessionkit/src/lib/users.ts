// Stand-ins for the app's own authentication and user table (the README's `verifyCredentials`).
export interface User {
  id: string;
  email: string;
  role: string;
  permissions: string[];
  subscription?: string;
  banned?: boolean;
}

const users: User[] = [
  {
    id: 'u_admin',
    email: 'admin@example.com',
    role: 'admin',
    permissions: ['settings:write', 'posts:create', 'posts:read', 'posts:write', 'delete users'],
  },
  { id: 'u_owner', email: 'owner@example.com', role: 'admin', permissions: ['users:read', 'users:write'] },
  { id: 'u_user', email: 'user@example.com', role: 'user', permissions: ['posts:read'] },
  { id: 'u_vip', email: 'vip@example.com', role: 'user', permissions: [], subscription: 'premium' },
  { id: 'u_banned', email: 'banned@example.com', role: 'user', permissions: [], subscription: 'premium', banned: true },
  { id: 'u_staff', email: 'staff@example.com', role: 'staff', permissions: [] },
];

export async function verifyCredentials(email: string, password: string): Promise<User | undefined> {
  return password === 'correct horse' ? users.find((user) => user.email === email) : undefined;
}
