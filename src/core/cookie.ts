/**
 * Session cookie reading and writing, with secure defaults and size control.
 *
 * Parsing and serialising are done by the `cookie` package; this module adds the session
 * rules: `HttpOnly` always, `Secure` + `SameSite=Lax` + `Path=/` by default, the `__Host-` and
 * `__Secure-` prefix constraints, and the 4096-byte limit (refuse, or split into numbered
 * chunks and clear chunks that are no longer used).
 *
 * @module
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import { configError, SessionKitError } from './errors.ts';
import { assertNumberInRange, assertOptionsObject } from './options.ts';

/** Attributes shared by every session cookie option shape. */
interface CookieAttributes {
  /** `SameSite` attribute. Default `lax`. `none` requires `secure`. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** `Partitioned` (CHIPS) attribute. Default false. */
  partitioned?: boolean;
  /** `Priority` attribute (Chromium). */
  priority?: 'low' | 'medium' | 'high';
  /**
   * `HttpOnly` is always set: session cookies are never readable by scripts.
   * `false` is rejected at construction.
   */
  httpOnly?: true;
  /**
   * Split a sealed value that exceeds the per-cookie budget across up to this many cookies
   * (`name.0`, `name.1`, ...). Default 1: a session that does not fit is refused with
   * `ERR_COOKIE_TOO_LARGE` instead of being sent broken.
   */
  maxChunks?: number;
}

/** A `__Host-` cookie: must be `Secure`, `Path=/`, and carry no `Domain` (enforced by the types and at run time). */
export interface HostPrefixedCookieOptions extends CookieAttributes {
  secure?: true;
  path?: '/';
  domain?: never;
}

/** A `__Secure-` cookie: must be `Secure`. */
export interface SecurePrefixedCookieOptions extends CookieAttributes {
  secure?: true;
  path?: string;
  domain?: string;
}

/** A cookie without a security prefix. */
export interface PlainCookieOptions extends CookieAttributes {
  /** `Secure` attribute. Default true (browsers accept Secure cookies on http://localhost). */
  secure?: boolean;
  /** `Path` attribute. Default `/`. */
  path?: string;
  /** `Domain` attribute. Default none (host-only). */
  domain?: string;
}

/**
 * Session cookie options. The name decides which shape applies, so a `__Host-` cookie with a
 * `domain` or a non-root `path` is a type error as well as a run-time configuration error.
 * The default name is `__Host-session`, so the `__Host-` rules apply when `name` is omitted.
 */
export type SessionCookieOptions<Name extends string = typeof defaultCookieName> = {
  /** Cookie name. Default `__Host-session`. */
  name?: Name;
} & (Name extends `__Host-${string}`
  ? HostPrefixedCookieOptions
  : Name extends `__Secure-${string}`
    ? SecurePrefixedCookieOptions
    : PlainCookieOptions);

/** Resolved, validated cookie settings. */
export interface CookieSettings {
  readonly name: string;
  readonly path: string;
  readonly domain: string | undefined;
  readonly secure: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly partitioned: boolean;
  readonly priority: 'low' | 'medium' | 'high' | undefined;
  readonly maxChunks: number;
}

/** Default session cookie name. */
export const defaultCookieName = '__Host-session' as const;

/** Browsers keep at most this many bytes of a cookie (name, value and attributes). */
export const maxCookieBytes = 4096;

const cookieOptionKeys = [
  'name',
  'path',
  'domain',
  'secure',
  'sameSite',
  'partitioned',
  'priority',
  'httpOnly',
  'maxChunks',
];
const cookieNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Validates cookie options and fills the secure defaults.
 *
 * @param options - user options (unknown keys are rejected)
 * @param where - label for error messages
 * @param extraKeys - other keys allowed in the same object (e.g. `secrets` in the Remix shape)
 */
export function resolveCookieSettings(
  options: Record<string, unknown> | undefined,
  where: string,
  extraKeys: readonly string[] = [],
): CookieSettings {
  assertOptionsObject(options, [...cookieOptionKeys, ...extraKeys], `${where} cookie`);
  const input = options ?? {};
  const name = (input.name as string | undefined) ?? defaultCookieName;
  if (typeof name !== 'string' || !cookieNamePattern.test(name) || name.length > 200) {
    throw configError(`${where}: cookie.name must be a valid cookie token.`, 'Use letters, digits, "-", "_" or ".".');
  }
  if (input.httpOnly === false) {
    throw configError(
      `${where}: cookie.httpOnly cannot be false.`,
      'Session cookies are always HttpOnly. Expose what scripts need through an endpoint or a separate cookie.',
    );
  }
  const secure = (input.secure as boolean | undefined) ?? true;
  const path = (input.path as string | undefined) ?? '/';
  const domain = input.domain as string | undefined;
  const sameSite = (input.sameSite as CookieSettings['sameSite'] | undefined) ?? 'lax';
  if (!['lax', 'strict', 'none'].includes(sameSite)) {
    throw configError(`${where}: cookie.sameSite must be "lax", "strict" or "none".`);
  }
  if (sameSite === 'none' && !secure) throw configError(`${where}: cookie.sameSite "none" requires secure: true.`);
  if (name.startsWith('__Host-') && (!secure || path !== '/' || domain !== undefined)) {
    throw configError(
      `${where}: a "__Host-" cookie must be secure, have path "/" and no domain.`,
      'Drop the domain/path options, or choose a name without the "__Host-" prefix.',
    );
  }
  if (name.startsWith('__Secure-') && !secure) throw configError(`${where}: a "__Secure-" cookie must be secure.`);
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    throw configError(`${where}: cookie.path must start with "/" and contain no ";" or spaces.`);
  }
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[a-z0-9.-]+$/i.test(domain))) {
    throw configError(`${where}: cookie.domain must be a host name.`);
  }
  const maxChunks = (input.maxChunks as number | undefined) ?? 1;
  assertNumberInRange(maxChunks, 1, 10, `${where}: cookie.maxChunks`);
  return {
    name,
    path,
    domain,
    secure,
    sameSite,
    partitioned: input.partitioned === true,
    priority: input.priority as CookieSettings['priority'],
    maxChunks: Math.floor(maxChunks),
  };
}

/** The session cookie as read from a request. */
export interface ReadCookie {
  /** The value (chunks joined), or `undefined` when absent or incomplete. */
  readonly value: string | undefined;
  /** Names of the session cookies (single and chunks) the request carried. */
  readonly presentNames: readonly string[];
}

const identity = (value: string): string => value;

/** Parses a `Cookie` header into a name → value map. Never throws. */
export function parseCookieHeader(header: string | null | undefined): Record<string, string | undefined> {
  if (!header) return {};
  try {
    return parseCookie(header, { decode: identity });
  } catch {
    return {};
  }
}

/** Reads the session cookie (or its numbered chunks) from a `Cookie` header. */
export function readSessionCookie(header: string | null | undefined, settings: CookieSettings): ReadCookie {
  const cookies = parseCookieHeader(header);
  const single = cookies[settings.name];
  if (settings.maxChunks === 1) {
    return single === undefined
      ? { value: undefined, presentNames: [] }
      : { value: single, presentNames: [settings.name] };
  }
  const presentNames: string[] = single === undefined ? [] : [settings.name];
  const parts: string[] = [];
  let complete = true;
  for (let index = 0; index < settings.maxChunks; index++) {
    const chunk = cookies[`${settings.name}.${index}`];
    if (chunk === undefined) {
      // Chunks after a gap are stale leftovers; record them so they get cleared.
      for (let later = index + 1; later < settings.maxChunks; later++) {
        if (cookies[`${settings.name}.${later}`] !== undefined) {
          presentNames.push(`${settings.name}.${later}`);
          complete = false;
        }
      }
      break;
    }
    presentNames.push(`${settings.name}.${index}`);
    parts.push(chunk);
  }
  if (parts.length > 0) return { value: complete ? parts.join('') : undefined, presentNames };
  return { value: single, presentNames };
}

function serialize(settings: CookieSettings, name: string, value: string, maxAgeSeconds: number): string {
  return stringifySetCookie(
    {
      name,
      value,
      maxAge: maxAgeSeconds,
      ...(maxAgeSeconds === 0 ? { expires: new Date(0) } : {}),
      path: settings.path,
      domain: settings.domain,
      secure: settings.secure,
      httpOnly: true,
      sameSite: settings.sameSite,
      partitioned: settings.partitioned,
      priority: settings.priority,
    },
    { encode: identity },
  );
}

/** `Set-Cookie` values that delete each of `names`. */
export function serializeDeletions(settings: CookieSettings, names: Iterable<string>): string[] {
  return Array.from(names, (name) => serialize(settings, name, '', 0));
}

/** The result of {@link serializeSessionCookie}. */
export interface SerializedSessionCookie {
  /** `Set-Cookie` header values, in order. */
  readonly setCookies: string[];
  /** Names of the cookies that now hold the session. */
  readonly names: string[];
}

/**
 * `Set-Cookie` values that store `value` for `maxAgeSeconds`, chunked when allowed, plus
 * deletions of any session cookies present in the request that are no longer used.
 *
 * @throws `ERR_COOKIE_TOO_LARGE` when the value needs more than `maxChunks` cookies
 */
export function serializeSessionCookie(
  settings: CookieSettings,
  value: string,
  maxAgeSeconds: number,
  presentNames: readonly string[] = [],
): SerializedSessionCookie {
  const single = serialize(settings, settings.name, value, maxAgeSeconds);
  let written: string[];
  let writtenNames: string[];
  if (single.length <= maxCookieBytes) {
    written = [single];
    writtenNames = [settings.name];
  } else {
    const overhead = serialize(settings, `${settings.name}.${settings.maxChunks - 1}`, '', maxAgeSeconds).length;
    const budget = maxCookieBytes - overhead;
    const count = Math.ceil(value.length / budget);
    if (settings.maxChunks === 1 || count > settings.maxChunks) {
      throw new SessionKitError(
        'ERR_COOKIE_TOO_LARGE',
        `The sealed session is ${value.length} bytes; ${settings.maxChunks} cookie(s) of ${maxCookieBytes} bytes cannot hold it.`,
        {
          hint: 'Keep less in the session (store ids, not objects), raise cookie.maxChunks, or use a server-side store.',
        },
      );
    }
    written = [];
    writtenNames = [];
    for (let index = 0; index < count; index++) {
      const name = `${settings.name}.${index}`;
      written.push(serialize(settings, name, value.slice(index * budget, (index + 1) * budget), maxAgeSeconds));
      writtenNames.push(name);
    }
  }
  const stale = presentNames.filter((name) => !writtenNames.includes(name));
  return {
    setCookies: stale.length === 0 ? written : [...written, ...serializeDeletions(settings, stale)],
    names: writtenNames,
  };
}
