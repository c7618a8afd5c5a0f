/**
 * The dev toolbar's endpoint (`GET /_sessionkit/inspect?path=`), a route the integration adds
 * under `astro dev` only: the current session with its values redacted, its timing, the guard's
 * explanation for a path, and the last refused CSRF check of the dev server (reason, request and
 * fix; never the token).
 *
 * @module
 */
import type { APIRoute } from 'astro';
import type { SessionHandle } from '../core/session.ts';
import type { GuardExplanation } from '../guard/index.ts';
import type { RequestSessionState } from '../pipeline/state.ts';
import { getPipeline, lastCsrfRefusal } from './runtime.ts';
import { type InspectedValue, shapeOf } from './toolbar-values.ts';

/** Rendered on demand: it shows the visitor's own session. */
export const prerender = false;

/** Session fields the guard reads: shown as they are, because debugging access needs them. */
const visibleKeys = new Set(['userId', 'role', 'roles', 'permissions']);

/** The session as the toolbar shows it. */
export interface InspectedSession {
  readonly id: string;
  readonly isNew: boolean;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly data: Readonly<Record<string, InspectedValue>>;
}

/** Redacts a session for display: ids shortened, values other than identity and access replaced by their shape. */
export function inspectSession(session: SessionHandle<Record<string, unknown>>): InspectedSession {
  const data: Record<string, InspectedValue> = {};
  for (const [key, value] of Object.entries(session.data)) {
    data[key] = visibleKeys.has(key) ? { value } : { hidden: shapeOf(value) };
  }
  return {
    id: `${session.id.slice(0, 6)}…`,
    isNew: session.isNew,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    data,
  };
}

/** The guard explanation as the toolbar shows it (patterns and outcomes only). */
export function summarizeExplanation<Context>(explanation: GuardExplanation<Record<string, unknown>, Context>) {
  const { decision } = explanation;
  return {
    decision: decision.action === 'allow' ? 'allow' : `${decision.action} ${decision.status}`,
    kind: explanation.kind,
    authenticated: explanation.authenticated,
    sources: explanation.sources.map((source) => ({
      source: source.source,
      path: source.normalized.ok ? source.normalized.path : `unreadable (${source.normalized.reason})`,
      matched: source.matched.map((rule) => rule.pattern),
      exception: source.exception?.pattern,
    })),
    checks: explanation.checks.map((check) => ({ pattern: check.rule.pattern, outcome: check.outcome })),
  };
}

/** The inspection of the visitor's session and of the guard's decision on `?path=` (default `/`). */
export const GET: APIRoute = async (context) => {
  const session = (context.locals as { sessionkit: RequestSessionState<Record<string, unknown>> }).sessionkit.session;
  const path = context.url.searchParams.get('path') ?? '/';
  const explanation = await getPipeline().guard.explain({
    session: session.data,
    path,
    method: 'GET',
    accept: 'text/html',
  });
  const body = {
    session: inspectSession(session),
    guard: summarizeExplanation(explanation),
    csrf: { lastRefusal: lastCsrfRefusal() ?? null },
  };
  return new Response(JSON.stringify(body), {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
};
