/**
 * The Astro adapter's default logger: sessionkit's `warn` and `error` lines on the server's
 * console, one line each, with their fields as `key=value`.
 *
 * Why the console: Astro's own logger is handed to integrations in their config-time hooks only;
 * middleware at run time cannot reach it, and the Node adapter writes its own run-time errors to
 * the console as well, so that is where an Astro user looks. The core never writes to the
 * console (a `createSessionkit()` app passes its own logger); only this adapter default does.
 * `logger` in `src/sessionkit.ts` replaces it (`logger: {}` silences sessionkit).
 *
 * @module
 */
import type { LogFields, Logger } from '../core/events.ts';

function fieldText(value: string | number | boolean): string {
  const text = String(value);
  return /[\s="]/.test(text) || text === '' ? JSON.stringify(text) : text;
}

/** `message (key=value key=value)`, on one line. */
export function formatLogLine(message: string, fields: LogFields | undefined): string {
  if (fields === undefined) return message;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) parts.push(`${key}=${fieldText(value)}`);
  return parts.length === 0 ? message : `${message} (${parts.join(' ')})`;
}

/** Warnings and errors on the console, one line each; debug and info lines are dropped. */
export const consoleLogger: Logger = {
  warn: (message, fields) => console.warn(formatLogLine(message, fields)),
  error: (message, fields) => console.error(formatLogLine(message, fields)),
};
