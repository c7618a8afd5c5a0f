/**
 * What a refused CSRF check means and what usually fixes it, in words a developer can act on:
 * for the server log (every failure) and the 403 page in development.
 *
 * @module
 */
import type { CsrfFailureReason } from './protection.ts';

/**
 * Where the app sets what the hints name: option paths as the app writes them, which differ
 * between `createSessionkit()` and the Astro integration.
 *
 * @example
 * ```ts
 * const names: CsrfHintNames = {
 *   trustedOrigins: 'csrf.trustedOrigins',
 *   allowSameSite: 'csrf.allowSameSite',
 *   ownOrigin: 'the URL the server builds for the request',
 *   fieldName: 'csrf_token',
 *   headerName: 'x-csrf-token',
 *   token: 'state.csrfToken',
 * };
 * ```
 */
export interface CsrfHintNames {
  /** The `trustedOrigins` option, e.g. `csrf.trustedOrigins`. */
  readonly trustedOrigins: string;
  /** The `allowSameSite` option. */
  readonly allowSameSite: string;
  /** What decides the app's own origin, e.g. Astro's `security.allowedDomains`. */
  readonly ownOrigin: string;
  /** The form field carrying the token. */
  readonly fieldName: string;
  /** The header carrying the token. */
  readonly headerName: string;
  /** Where the app reads the token, e.g. `Astro.locals.sessionkit.csrfToken`. */
  readonly token: string;
}

/** What a refused check means, for one reason. */
export interface CsrfFailureExplanation {
  /** What happened, in one sentence. */
  readonly summary: string;
  /** The usual fix, naming the app's own options. */
  readonly fix: string;
}

/**
 * The meaning and usual fix of a CSRF refusal.
 *
 * @example
 * ```ts
 * const { summary, fix } = explainCsrfFailure('missing-token', names);
 * logger.warn(`${summary} ${fix}`);
 * ```
 */
export function explainCsrfFailure(reason: CsrfFailureReason, names: CsrfHintNames): CsrfFailureExplanation {
  switch (reason) {
    case 'origin':
      return {
        summary: "The request's Origin (or Referer) names another origin than the app's own.",
        fix: `If it is your own site (a proxy, a host name the server does not know), make ${names.ownOrigin} match the address browsers use; if it is another site of yours, list its origin in ${names.trustedOrigins}.`,
      };
    case 'fetch-site':
      return {
        summary: 'The browser says the request came from another site (Sec-Fetch-Site).',
        fix: `A form on another origin of yours: list that origin in ${names.trustedOrigins} (or set ${names.allowSameSite} for sibling subdomains). A form on another site: nothing to fix, this is the attack the check stops.`,
      };
    case 'missing-token':
      return {
        summary: 'The request carries no CSRF token.',
        fix: `Put the token in the form as a hidden field named "${names.fieldName}" (value: ${names.token}), or send it in the ${names.headerName} header from fetch() (JSON bodies must use the header).`,
      };
    case 'no-session':
      return {
        summary: 'The request has no session and no anonymous CSRF cookie to check a token against.',
        fix: `Show the form from a page of this app first (reading ${names.token} sets the cookie the token is bound to). A form kept open longer than the cookie lives, or a browser refusing the cookie (a Secure cookie over plain http on a host other than localhost), ends here too.`,
      };
    case 'bad-token':
      return {
        summary: 'The CSRF token is not valid for this session: forged, expired, or issued before the session changed.',
        fix: 'Tokens end when the session id changes (sign-in, sign-out, a role change): render forms after the change, and reload pages opened before it.',
      };
    case 'body-too-large':
      return {
        summary: 'The form body is larger than the limit the token is looked for within.',
        fix: `Send large uploads with fetch() and the token in the ${names.headerName} header: the body is then not searched.`,
      };
  }
}
