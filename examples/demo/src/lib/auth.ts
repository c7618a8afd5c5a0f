/**
 * Signing in and out with sessionkit, and flash messages. Used by the pages' POST handlers.
 */
import type { APIContext, AstroGlobal } from 'astro';
import {
  clearSession,
  getSessionHandle,
  regenerateSession,
  type SignedInSessionData,
  setSession,
} from 'sessionkit/server';
import type { User } from './users.ts';

/** A signed-in session of the demo (declared in `src/sessionkit-types.ts`). */
export type DemoSession = SignedInSessionData;

type Context = APIContext | AstroGlobal;

/** Flash message kinds shown by the layout. */
export type FlashKind = 'notice' | 'error';

/** Stores a message for the next page only (read once by the layout). */
export function flash(context: Context, kind: FlashKind, message: string): void {
  getSessionHandle(context).flash(kind, message);
}

/**
 * Signs `user` in: replaces the session data and rotates the session id (no fixation), then
 * records the device details listed on /devices.
 */
export async function signIn(context: Context, user: User): Promise<void> {
  await setSession(context, {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    permissions: user.permissions,
  });
  const { manager, session } = context.locals.sessionkit;
  manager.describe(session, {
    userAgent: context.request.headers.get('user-agent') ?? undefined,
    ip: context.clientAddress,
  });
}

/** Signs out (the session is deleted from the store and its cookie cleared) and flashes `message`. */
export async function signOut(context: Context, message: string): Promise<void> {
  await clearSession(context);
  // A destroyed session cannot carry a flash message: regenerateSession() starts a fresh,
  // anonymous session in its place, which only holds the message.
  await regenerateSession(context);
  flash(context, 'notice', message);
}

/** The POSTed form, or an empty one when the body is not a form. */
export async function readForm(context: Context): Promise<FormData> {
  try {
    return await context.request.formData();
  } catch {
    return new FormData();
  }
}

/** A form field as a trimmed string (empty when missing). */
export function field(form: FormData, name: string, options: { trim?: boolean } = {}): string {
  const value = form.get(name);
  if (typeof value !== 'string') return '';
  return options.trim === false ? value : value.trim();
}
