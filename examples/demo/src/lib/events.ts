/**
 * The last security events sessionkit reported through `onEvent` (src/sessionkit.ts), shown on
 * the admin page. Events never contain secrets or session data. Kept per process.
 */
import type { SessionEvent } from 'sessionkit';

/** An event with the time it happened. */
export type LoggedEvent = SessionEvent & { at: number };

const capacity = 25;
const recent: LoggedEvent[] = [];

/** The `onEvent` listener. */
export function recordEvent(event: SessionEvent): void {
  recent.unshift({ ...event, at: Date.now() });
  recent.length = Math.min(recent.length, capacity);
}

/** Newest first. */
export function recentEvents(): readonly LoggedEvent[] {
  return recent;
}
