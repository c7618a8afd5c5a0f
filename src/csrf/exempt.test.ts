import { describe, expect, it } from 'vitest';
import { compileExempt, plainPath } from './exempt.ts';

const request = new Request('https://app.example/');

describe('plainPath', () => {
  it('decodes plain paths and drops a trailing slash', () => {
    expect(plainPath('/webhooks/stripe/')).toBe('/webhooks/stripe');
    expect(plainPath('/caf%C3%A9')).toBe('/café');
    expect(plainPath('/')).toBe('/');
  });

  it('refuses paths that could be routed somewhere else', () => {
    for (const path of [
      '',
      'webhooks',
      '/webhooks/..%2Faccount',
      '/webhooks/%2e%2e/account',
      '/webhooks%5caccount',
      '/webhooks/%252e%252e/x',
      '/webhooks/../account',
      '/webhooks/./x',
      '/webhooks\\..\\account',
      '//webhooks',
      '/%ZZ',
      `/${'a'.repeat(5000)}`,
    ]) {
      expect(plainPath(path), path).toBeUndefined();
    }
  });
});

describe('compileExempt', () => {
  it('matches exact paths and prefix/** patterns', () => {
    const isExempt = compileExempt(['/webhooks/**', '/api/ping', '/trailing/'], 'test');
    expect(isExempt('/webhooks', request)).toBe(true);
    expect(isExempt('/webhooks/', request)).toBe(true);
    expect(isExempt('/webhooks/stripe/events', request)).toBe(true);
    expect(isExempt('/webhooksx', request)).toBe(false);
    expect(isExempt('/api/ping', request)).toBe(true);
    expect(isExempt('/api/ping/', request)).toBe(true);
    expect(isExempt('/api/pings', request)).toBe(false);
    expect(isExempt('/API/ping', request)).toBe(false);
    expect(isExempt('/trailing', request)).toBe(true);
  });

  it('never exempts without an option, and gives predicates only plain paths', () => {
    expect(compileExempt(undefined, 'test')('/anything', request)).toBe(false);
    const seen: string[] = [];
    const isExempt = compileExempt((path) => {
      seen.push(path);
      return path.startsWith('/hooks/');
    }, 'test');
    expect(isExempt('/hooks/a', request)).toBe(true);
    expect(isExempt('/hooks/..%2Fadmin', request)).toBe(false);
    expect(seen).toEqual(['/hooks/a']);
  });
});
