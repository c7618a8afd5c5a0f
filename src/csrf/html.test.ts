import { describe, expect, it, vi } from 'vitest';
import { csrfFetchScript, csrfField, csrfHeaders, csrfMeta, escapeHtml } from './html.ts';

describe('markup helpers', () => {
  it('escape attribute values', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(csrfField('"><script>', 'csrf"x')).toBe(
      '<input type="hidden" name="csrf&quot;x" value="&quot;&gt;&lt;script&gt;">',
    );
    expect(csrfMeta('a"b')).toBe('<meta name="csrf-token" content="a&quot;b">');
    expect(csrfHeaders('t')).toEqual({ 'x-csrf-token': 't' });
    expect(csrfHeaders('t', 'x-xsrf')).toEqual({ 'x-xsrf': 't' });
  });

  it('the fetch script refuses header names that could break out of the script', () => {
    expect(() => csrfFetchScript('</script><script>alert(1)</script>')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
    expect(csrfFetchScript()).not.toContain('</');
  });
});

describe('csrfFetchScript in a simulated page', () => {
  function load(token: string | null) {
    const calls: { input: unknown; init: RequestInit | undefined }[] = [];
    const original = vi.fn(async (input: unknown, init?: RequestInit) => {
      calls.push({ input, init });
      return new Response('ok');
    });
    const window: { fetch: typeof original } = { fetch: original };
    const document = {
      querySelector: (selector: string) =>
        selector === 'meta[name="csrf-token"]' && token !== null ? { getAttribute: () => token } : null,
    };
    const location = { origin: 'https://app.example', href: 'https://app.example/page' };
    new Function('window', 'document', 'location', csrfFetchScript())(window, document, location);
    return { fetch: window.fetch as (input: unknown, init?: RequestInit) => Promise<Response>, calls };
  }

  const headerOf = (init: RequestInit | undefined) => new Headers(init?.headers).get('x-csrf-token');

  it('adds the token to same-origin unsafe requests only', async () => {
    const { fetch, calls } = load('tok');
    await fetch('/api/todos', { method: 'POST', headers: { 'content-type': 'application/json' } });
    await fetch('https://app.example/api/x', { method: 'patch' });
    await fetch('/api/todos');
    await fetch('/api/todos', { method: 'HEAD' });
    await fetch('https://evil.example/collect', { method: 'POST' });
    await fetch('//evil.example/collect', { method: 'DELETE' });
    await fetch(new Request('https://app.example/api/r', { method: 'PUT' }));
    expect(calls.map((call) => headerOf(call.init))).toEqual(['tok', 'tok', null, null, null, null, 'tok']);
    expect(new Headers(calls[0]!.init!.headers).get('content-type')).toBe('application/json');
  });

  it('keeps an explicit header and does nothing without the meta tag', async () => {
    const { fetch, calls } = load('tok');
    await fetch('/x', { method: 'POST', headers: { 'x-csrf-token': 'mine' } });
    expect(headerOf(calls[0]!.init)).toBe('mine');
    const bare = load(null);
    await bare.fetch('/x', { method: 'POST' });
    expect(headerOf(bare.calls[0]!.init)).toBeNull();
  });
});
