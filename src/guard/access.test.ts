import { describe, expect, it } from 'vitest';
import {
  getSessionPermissions,
  getSessionRole,
  isAuthenticated,
  MAX_ACCESS_ENTRIES,
  sessionHasAllPermissions,
  sessionHasAnyPermission,
  sessionHasAnyRole,
  sessionHasPermission,
  sessionHasRole,
} from './access.ts';

describe('isAuthenticated', () => {
  it.each([
    [{ userId: 'u_1' }, true],
    [{ userId: '' }, false],
    [{ userId: 42 }, false],
    [{ userId: ['u'] }, false],
    [{}, false],
    [null, false],
    [undefined, false],
    ['u_1', false],
  ])('%j -> %s', (session, expected) => {
    expect(isAuthenticated(session)).toBe(expected);
  });
});

describe('roles', () => {
  it('role means the primary role or membership in roles', () => {
    expect(sessionHasRole({ role: 'admin' }, 'admin')).toBe(true);
    expect(sessionHasRole({ role: 'user', roles: ['admin'] }, 'admin')).toBe(true);
    expect(sessionHasRole({ role: 'user', roles: ['editor'] }, 'admin')).toBe(false);
    expect(sessionHasRole({}, 'admin')).toBe(false);
    expect(sessionHasRole(null, 'admin')).toBe(false);
  });

  it('roles means any of them, primary or in roles', () => {
    expect(sessionHasAnyRole({ role: 'editor' }, ['admin', 'editor'])).toBe(true);
    expect(sessionHasAnyRole({ roles: ['x', 'editor'] }, ['admin', 'editor'])).toBe(true);
    expect(sessionHasAnyRole({ role: 'x', roles: ['y'] }, ['admin', 'editor'])).toBe(false);
  });

  it('ignores malformed values without throwing', () => {
    expect(sessionHasRole({ role: ['admin'] }, 'admin')).toBe(false);
    expect(sessionHasRole({ roles: 'admin' }, 'admin')).toBe(false);
    expect(sessionHasRole({ roles: [{ toString: () => 'admin' }, 1, null] }, 'admin')).toBe(false);
    expect(sessionHasRole({ roles: { length: 1, 0: 'admin' } }, 'admin')).toBe(false);
    expect(getSessionRole({ role: '' })).toBeUndefined();
  });

  it('treats over-long role arrays as granting nothing', () => {
    const roles = Array.from({ length: MAX_ACCESS_ENTRIES + 1 }, (_, index) => `r${index}`);
    roles.push('admin');
    expect(sessionHasRole({ roles }, 'admin')).toBe(false);
    expect(sessionHasAnyRole({ roles }, ['admin'])).toBe(false);
    expect(sessionHasRole({ role: 'admin', roles }, 'admin')).toBe(true);
    expect(sessionHasRole({ roles: roles.slice(-MAX_ACCESS_ENTRIES) }, 'admin')).toBe(true);
  });

  it('uses access.getRole for the primary role', () => {
    const access = { getRole: (session: { level?: string }) => session.level };
    expect(sessionHasRole({ level: 'admin', role: 'user' }, 'admin', access)).toBe(true);
    expect(sessionHasRole({ level: 'user', role: 'admin' }, 'admin', access)).toBe(false);
    expect(sessionHasRole({ level: 'user', roles: ['admin'] }, 'admin', access)).toBe(true);
  });
});

describe('permissions', () => {
  const session = { userId: 'u', permissions: ['posts:read', 'posts:write', 7] };

  it('permission, all of, any of', () => {
    expect(sessionHasPermission(session, 'posts:read')).toBe(true);
    expect(sessionHasPermission(session, 'posts:delete')).toBe(false);
    expect(sessionHasAllPermissions(session, ['posts:read', 'posts:write'])).toBe(true);
    expect(sessionHasAllPermissions(session, ['posts:read', 'posts:delete'])).toBe(false);
    expect(sessionHasAnyPermission(session, ['posts:delete', 'posts:write'])).toBe(true);
    expect(sessionHasAnyPermission(session, ['posts:delete'])).toBe(false);
  });

  it('ignores malformed and over-long lists', () => {
    expect(sessionHasPermission({ permissions: 'posts:read' }, 'posts:read')).toBe(false);
    expect(sessionHasPermission({ permissions: ['7'] }, 7 as unknown as string)).toBe(false);
    const huge = [...Array.from({ length: MAX_ACCESS_ENTRIES }, () => 'x'), 'posts:read'];
    expect(getSessionPermissions({ permissions: huge })).toBeUndefined();
    expect(sessionHasPermission({ permissions: huge }, 'posts:read')).toBe(false);
    expect(sessionHasAllPermissions({ permissions: huge }, ['posts:read'])).toBe(false);
    expect(sessionHasAnyPermission({ permissions: huge }, ['posts:read'])).toBe(false);
  });

  it('uses access.getPermissions, with the same limits', () => {
    const access = { getPermissions: (value: { grants?: string[]; permissions?: string[] }) => value.grants };
    expect(sessionHasPermission({ grants: ['a'], permissions: [] }, 'a', access)).toBe(true);
    expect(sessionHasPermission({ permissions: ['a'] }, 'a', access)).toBe(false);
    const huge = Array.from({ length: MAX_ACCESS_ENTRIES + 1 }, () => 'a');
    expect(sessionHasPermission({ grants: huge }, 'a', access)).toBe(false);
  });
});
