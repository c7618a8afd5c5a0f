// A stand-in for the app's own session table (the README's `db`).
interface User {
  id: string;
  email: string;
  role: string;
  permissions: string[];
}

const users: Record<string, User> = {
  'admin@example.com': { id: 'u_admin', email: 'admin@example.com', role: 'admin', permissions: ['reports:read'] },
  'user@example.com': { id: 'u_user', email: 'user@example.com', role: 'user', permissions: [] },
};
const sessions = new Map<string, string>([
  ['sid-admin', 'admin@example.com'],
  ['sid-user', 'user@example.com'],
]);

export const db = {
  async getUserBySessionId(sessionId: string): Promise<User> {
    const user = users[sessions.get(sessionId) ?? ''];
    if (user === undefined) throw new Error('unknown session');
    return user;
  },
  async findUserByEmail(email: string): Promise<User | undefined> {
    return users[email];
  },
  async createSession(userId: string): Promise<string> {
    const sessionId = crypto.randomUUID();
    const user = Object.values(users).find((entry) => entry.id === userId);
    if (user !== undefined) sessions.set(sessionId, user.email);
    return sessionId;
  },
};
