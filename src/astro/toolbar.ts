/**
 * The dev toolbar app (`astro dev` only): shows the current session with redacted values, when
 * it expires, which guard rules matched the current page and why, and the last refused CSRF
 * check with its reason and usual fix.
 *
 * @module
 */
import { defineToolbarApp } from 'astro/toolbar';
import { displayValue, type InspectedValue } from './toolbar-values.ts';

const endpoint = '/_sessionkit/inspect';

interface Inspection {
  session: { id: string; isNew: boolean; createdAt: number; expiresAt: number; data: Record<string, InspectedValue> };
  guard: {
    decision: string;
    kind: string;
    authenticated: boolean;
    sources: { source: string; path: string; matched: string[]; exception?: string }[];
    checks: { pattern: string; outcome: string }[];
  };
  csrf: {
    lastRefusal: { reason: string; method: string; path: string; summary: string; fix: string; at: number } | null;
  };
}

function csrfRows(refusal: Inspection['csrf']['lastRefusal']): [string, string][] {
  if (refusal === null) return [['last refusal', 'none since the dev server started']];
  return [
    ['reason', refusal.reason],
    ['request', `${refusal.method} ${refusal.path}`],
    ['when', new Date(refusal.at).toLocaleTimeString()],
    ['what it means', refusal.summary],
    ['usual fix', refusal.fix],
  ];
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}

function table(rows: [string, string][]): HTMLTableElement {
  const body = element('table');
  for (const [key, value] of rows) {
    const row = body.insertRow();
    row.insertCell().textContent = key;
    row.insertCell().textContent = value;
  }
  return body;
}

/** Session values: shown ones as JSON in monospace, hidden ones as their shape in grey italics. */
function valueRows(target: HTMLTableElement, data: Record<string, InspectedValue>): HTMLTableElement {
  for (const [key, entry] of Object.entries(data)) {
    const row = target.insertRow();
    row.insertCell().textContent = key;
    const { text, hidden } = displayValue(entry);
    const cell = row.insertCell();
    cell.textContent = text;
    cell.style.cssText = hidden ? 'font-style: italic; opacity: 0.7' : 'font-family: ui-monospace, monospace';
  }
  return target;
}

function render(target: HTMLElement, inspection: Inspection): void {
  const { session, guard, csrf } = inspection;
  const remaining = Math.max(0, session.expiresAt - Math.floor(Date.now() / 1000));
  target.replaceChildren(
    element('h2', 'Session'),
    valueRows(
      table([
        ['id', session.id],
        ['state', session.isNew ? 'new (not saved yet)' : 'loaded'],
        ['expires', `${new Date(session.expiresAt * 1000).toLocaleString()} (in ${Math.round(remaining / 60)} min)`],
      ]),
      session.data,
    ),
    element('h2', `Guard: ${guard.decision}`),
    table([
      ['request kind', guard.kind],
      ['signed in', String(guard.authenticated)],
      ...guard.sources.map((source): [string, string] => [
        `${source.source} ${source.path}`,
        source.matched.length === 0
          ? 'no rule'
          : `${source.matched.join(', ')}${source.exception ? ` (public: ${source.exception})` : ''}`,
      ]),
      ...guard.checks.map((check): [string, string] => [`rule ${check.pattern}`, check.outcome]),
    ]),
    element('h2', 'CSRF'),
    table(csrfRows(csrf.lastRefusal)),
  );
}

/** The toolbar app definition. */
export default defineToolbarApp({
  init(canvas, app) {
    const panel = document.createElement('astro-dev-toolbar-window');
    const content = element('div');
    content.style.cssText = 'font: 13px/1.5 system-ui, sans-serif; overflow: auto; max-height: 60vh';
    panel.append(content);
    canvas.append(panel);
    const refresh = async () => {
      content.textContent = 'Loading…';
      try {
        const response = await fetch(`${endpoint}?path=${encodeURIComponent(location.pathname)}`, {
          credentials: 'same-origin',
        });
        render(content, (await response.json()) as Inspection);
      } catch (error) {
        content.textContent = `sessionkit: could not inspect this page (${String(error)})`;
      }
    };
    app.onToggled(({ state }) => {
      if (state) void refresh();
    });
  },
});
