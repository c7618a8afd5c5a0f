/**
 * `sessionkit/compat/astro-sessionkit`: astro-sessionkit 0.1.33's type names, as aliases of
 * sessionkit's types, so `import type { Session, ProtectionRule } from 'astro-sessionkit'`
 * becomes an import from here and keeps its meaning. Types only; nothing here runs.
 *
 * Mind the one name that changes meaning across the packages: astro-sessionkit's `Session` is the
 * session *data* (`userId`, `role`, ...), and so is this `Session`. sessionkit's own session handle
 * (`get`, `set`, `flash`, ...) is `SessionHandle`, and its data type is `SessionData`.
 *
 * @example
 * ```ts
 * import type { Session } from 'sessionkit/compat/astro-sessionkit';
 *
 * function greeting(session: Session): string {
 *   return `Hello ${session.email ?? session.userId}`;
 * }
 * ```
 *
 * @module
 */
import type { AstroGuardContext, SessionkitIntegrationOptions, SessionkitRuntimeConfig } from '../astro/config.ts';
import type { AccessHooks as GuardAccessHooks, ProtectRule } from '../guard/rules.ts';
import type { RequestSessionState } from '../pipeline/state.ts';
import type { SessionUser, SetSessionOptions } from '../server/index.ts';

/** astro-sessionkit's `Session`: the session data (`userId` required; `email`, `role`, `roles`, `permissions`, your fields). */
export type Session = SessionUser;

/** astro-sessionkit's `SessionSetOptions` (`{ ttl }` of `setSession` / `updateSession`), in seconds. */
export type SessionSetOptions = SetSessionOptions;

/** A protection rule; with `allow` it belongs in `src/sessionkit.ts`, without in `astro.config.mjs` too. */
export type ProtectionRule = ProtectRule<Session, AstroGuardContext>;

/** `{ pattern, role }`: the primary role (or one of `roles`) is `role`. */
export type RoleProtectionRule = ProtectionRule & { readonly role: string };

/** `{ pattern, roles }`: the session has one of `roles`. */
export type RolesProtectionRule = ProtectionRule & { readonly roles: readonly string[] };

/** `{ pattern, permission }`: the session has `permission`. */
export type PermissionProtectionRule = ProtectionRule & { readonly permission: string };

/** `{ pattern, permissions }`: the session has all of `permissions`. */
export type PermissionsProtectionRule = ProtectionRule & { readonly permissions: readonly string[] };

/** `{ pattern, allow }`: custom logic, called only for signed-in sessions (never with `null`). */
export type CustomProtectionRule = ProtectionRule & { readonly allow: NonNullable<ProtectionRule['allow']> };

/** astro-sessionkit's `access` hooks: `getRole`, `getPermissions`, `check` (in `src/sessionkit.ts`). */
export type AccessHooks = GuardAccessHooks<Session, AstroGuardContext>;

/**
 * astro-sessionkit's `SessionKitConfig` was one object; sessionkit splits it: the data options
 * of `sessionkit()` in `astro.config.mjs` (this type), and the functions in `src/sessionkit.ts`
 * ({@link SessionKitRuntimeConfig}).
 */
export type SessionKitConfig = SessionkitIntegrationOptions;

/** The half of astro-sessionkit's `SessionKitConfig` with functions: rules with `allow`, `access`, context hooks. */
export type SessionKitRuntimeConfig = SessionkitRuntimeConfig;

/** astro-sessionkit's `SessionContext` (what `runWithContext` carries): sessionkit's request state. */
export type SessionContext = RequestSessionState;
