/**
 * Users: the demo's own accounts table (sessionkit does not manage users, only sessions).
 */
import { randomBytes } from 'node:crypto';
import { db } from './db.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { type DemoAccount, demoAccounts } from './settings.ts';

/** A user as the app sees it (never the password hash). */
export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  permissions: string[];
  /** Epoch seconds. */
  createdAt: number;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  permissions: string;
  created_at: number;
}

function toUser(row: UserRow): User {
  let permissions: unknown;
  try {
    permissions = JSON.parse(row.permissions);
  } catch {
    permissions = [];
  }
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    permissions: Array.isArray(permissions) ? permissions.filter((entry) => typeof entry === 'string') : [],
    createdAt: row.created_at,
  };
}

const byEmail = db.prepare('SELECT * FROM users WHERE email = ?');
const byId = db.prepare('SELECT * FROM users WHERE id = ?');
const all = db.prepare('SELECT * FROM users ORDER BY created_at, email');
const insert = db.prepare(
  'INSERT OR IGNORE INTO users (id, email, name, password_hash, role, permissions, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
);

/** Lower-cased, trimmed email. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

export function findUserById(id: string): User | undefined {
  const row = byId.get(id) as UserRow | undefined;
  return row === undefined ? undefined : toUser(row);
}

export function listUsers(): User[] {
  return (all.all() as unknown as UserRow[]).map(toUser);
}

/** Creates a user; `undefined` when the email is taken. */
export async function createUser(input: {
  email: string;
  name: string;
  password: string;
  role?: string;
  permissions?: string[];
}): Promise<User | undefined> {
  const email = normalizeEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  const id = `u_${randomBytes(9).toString('base64url')}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const result = insert.run(
    id,
    email,
    input.name,
    passwordHash,
    input.role ?? 'user',
    JSON.stringify(input.permissions ?? []),
    createdAt,
  );
  return result.changes === 0 ? undefined : findUserById(id);
}

let dummyHash: Promise<string> | undefined;

/**
 * The user whose email and password match, or `null`. Unknown emails cost the same scrypt work
 * as known ones, so timing does not tell which accounts exist.
 */
export async function verifyCredentials(email: string, password: string): Promise<User | null> {
  await seeded;
  const row = byEmail.get(normalizeEmail(email)) as UserRow | undefined;
  if (row === undefined) {
    dummyHash ??= hashPassword(randomBytes(16).toString('base64url'));
    await verifyPassword(password, await dummyHash);
    return null;
  }
  return (await verifyPassword(password, row.password_hash)) ? toUser(row) : null;
}

async function seed(account: DemoAccount): Promise<void> {
  if (byEmail.get(account.email) !== undefined) return;
  await createUser(account);
}

/** Seeds the demo admin and demo user on first run (idempotent, safe with two instances). */
const seeded: Promise<void> = Promise.all([seed(demoAccounts.admin), seed(demoAccounts.user)]).then(() => undefined);

/** Resolves once the demo accounts exist. */
export function whenSeeded(): Promise<void> {
  return seeded;
}
