/**
 * Browser security headers on every page the app renders: a Content-Security-Policy that lets
 * no other site frame these pages (`frame-ancestors 'none'`: the "sign out everywhere" buttons
 * cannot be overlaid by a clickjacking page) and loads scripts and styles from this origin only,
 * no MIME sniffing, and no full URLs in the Referer sent to other sites.
 *
 * Copy this file as it is. The demo has no inline scripts or styles (`build.inlineStylesheets:
 * 'never'` in astro.config.mjs), so the policy needs no 'unsafe-inline'; `astro dev` injects its
 * own inline styles and scripts (Vite, the dev toolbar), so the development policy allows them.
 */
import { defineMiddleware } from 'astro:middleware';

const scriptsAndStyles = import.meta.env.DEV ? "'self' 'unsafe-inline'" : "'self'";

/** The headers, as sent. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    `script-src ${scriptsAndStyles}`,
    `style-src ${scriptsAndStyles}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

function setAll(headers: Headers): void {
  for (const [name, value] of Object.entries(securityHeaders)) headers.set(name, value);
}

export const onRequest = defineMiddleware(async (_context, next) => {
  const response = await next();
  try {
    setAll(response.headers);
    return response;
  } catch {
    // Response.redirect() has immutable headers: copy it into a response whose headers can change.
    const copy = new Response(response.body, response);
    setAll(copy.headers);
    return copy;
  }
});
