/**
 * Reading identity, roles and permissions out of an untrusted session object. Shared by the guard
 * and by `sessionkit/server`'s request-scoped helpers, so that "has role X" means the same thing
 * everywhere: the primary `role` is X, or `roles` contains X.
 *
 * Nothing here throws on a malformed session: missing fields, wrong types, non-string entries
 * and arrays longer than {@link MAX_ACCESS_ENTRIES} simply grant nothing. Hooks given in
 * `access` may throw; the guard catches that (see `createGuard`).
 *
 * @module
 */
import type { AccessHooks } from './rules.ts';

/**
 * The longest `roles` / `permissions` array considered. A longer one grants nothing (deny), so
 * that a bloated session cannot make every check scan an unbounded list.
 *
 * @example
 * ```ts
 * sessionHasRole({ userId: 'u', roles: new Array(MAX_ACCESS_ENTRIES + 1).fill('admin') }, 'admin'); // false
 * ```
 */
export const MAX_ACCESS_ENTRIES = 1000;

type Hooks<S extends object> = Pick<AccessHooks<S>, 'getRole' | 'getPermissions'> | undefined;

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function field(session: unknown, name: string): unknown {
  return isObject(session) ? (session as Record<string, unknown>)[name] : undefined;
}

function boundedList(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) && value.length <= MAX_ACCESS_ENTRIES ? value : undefined;
}

/**
 * True when `session` is signed in: an object whose `userId` is a non-empty string.
 *
 * @example
 * ```ts
 * isAuthenticated({ userId: 'u_1' }); // true
 * isAuthenticated({ userId: '' }); // false
 * isAuthenticated(null); // false
 * ```
 */
export function isAuthenticated(session: unknown): boolean {
  const userId = field(session, 'userId');
  return typeof userId === 'string' && userId.length > 0;
}

/**
 * The session's primary role: `access.getRole(session)` when given, else `session.role`;
 * `undefined` when it is not a non-empty string.
 *
 * @example
 * ```ts
 * getSessionRole({ userId: 'u', role: 'admin' }); // 'admin'
 * getSessionRole({ userId: 'u', level: 'admin' }, { getRole: (s) => s.level as string }); // 'admin'
 * ```
 */
export function getSessionRole<S extends object>(session: S | null | undefined, access?: Hooks<S>): string | undefined {
  if (!isObject(session)) return undefined;
  const role = access?.getRole ? access.getRole(session) : field(session, 'role');
  return typeof role === 'string' && role.length > 0 ? role : undefined;
}

/**
 * True when the session has `role`: its primary role is `role`, or its `roles` array (at most
 * {@link MAX_ACCESS_ENTRIES} entries) contains it. Does not check that the session is signed in.
 *
 * @example
 * ```ts
 * sessionHasRole({ userId: 'u', role: 'editor', roles: ['billing'] }, 'billing'); // true
 * ```
 */
export function sessionHasRole<S extends object>(
  session: S | null | undefined,
  role: string,
  access?: Hooks<S>,
): boolean {
  if (getSessionRole(session, access) === role) return true;
  return boundedList(field(session, 'roles'))?.includes(role) ?? false;
}

/**
 * True when the session has at least one of `roles` (see {@link sessionHasRole}).
 *
 * @example
 * ```ts
 * sessionHasAnyRole({ userId: 'u', role: 'editor' }, ['admin', 'editor']); // true
 * ```
 */
export function sessionHasAnyRole<S extends object>(
  session: S | null | undefined,
  roles: readonly string[],
  access?: Hooks<S>,
): boolean {
  const primary = getSessionRole(session, access);
  if (primary !== undefined && roles.includes(primary)) return true;
  const list = boundedList(field(session, 'roles'));
  if (list === undefined) return false;
  for (const role of roles) if (list.includes(role)) return true;
  return false;
}

/**
 * The session's permissions: `access.getPermissions(session)` when given, else
 * `session.permissions`; `undefined` when that is not an array of at most
 * {@link MAX_ACCESS_ENTRIES} entries (which then grants nothing). Entries that are not strings
 * never match a permission.
 *
 * @example
 * ```ts
 * getSessionPermissions({ userId: 'u', permissions: ['posts:read'] }); // ['posts:read']
 * ```
 */
export function getSessionPermissions<S extends object>(
  session: S | null | undefined,
  access?: Hooks<S>,
): readonly unknown[] | undefined {
  if (!isObject(session)) return undefined;
  return boundedList(access?.getPermissions ? access.getPermissions(session) : field(session, 'permissions'));
}

/**
 * True when the session's permissions contain `permission`.
 *
 * @example
 * ```ts
 * sessionHasPermission({ userId: 'u', permissions: ['posts:write'] }, 'posts:write'); // true
 * ```
 */
export function sessionHasPermission<S extends object>(
  session: S | null | undefined,
  permission: string,
  access?: Hooks<S>,
): boolean {
  return getSessionPermissions(session, access)?.includes(permission) ?? false;
}

/**
 * True when the session's permissions contain every one of `permissions`.
 *
 * @example
 * ```ts
 * sessionHasAllPermissions({ userId: 'u', permissions: ['a', 'b'] }, ['a', 'b']); // true
 * ```
 */
export function sessionHasAllPermissions<S extends object>(
  session: S | null | undefined,
  permissions: readonly string[],
  access?: Hooks<S>,
): boolean {
  const granted = getSessionPermissions(session, access);
  if (granted === undefined) return false;
  for (const permission of permissions) if (!granted.includes(permission)) return false;
  return true;
}

/**
 * True when the session's permissions contain at least one of `permissions`.
 *
 * @example
 * ```ts
 * sessionHasAnyPermission({ userId: 'u', permissions: ['a'] }, ['a', 'b']); // true
 * ```
 */
export function sessionHasAnyPermission<S extends object>(
  session: S | null | undefined,
  permissions: readonly string[],
  access?: Hooks<S>,
): boolean {
  const granted = getSessionPermissions(session, access);
  if (granted === undefined) return false;
  for (const permission of permissions) if (granted.includes(permission)) return true;
  return false;
}
