// The README's "Session Access Functions", each called as its example does.
import type { APIRoute } from 'astro';
import {
  getSession,
  hasAllPermissions,
  hasAnyPermission,
  hasPermission,
  hasRole,
  hasRolePermission,
  isAuthenticated,
} from 'sessionkit/server';

export const GET: APIRoute = async () => {
  const session = getSession();
  return new Response(
    JSON.stringify({
      userId: session ? session.userId : null,
      isAuthenticated: isAuthenticated(),
      hasRoleAdmin: hasRole('admin'),
      hasPermissionPostsDelete: hasPermission('posts:delete'),
      hasAllPermissions: hasAllPermissions('posts:read', 'posts:write'),
      hasAnyPermission: hasAnyPermission('posts:delete', 'admin:panel'),
      hasRolePermission: hasRolePermission('admin', 'delete users'),
    }),
  );
};
