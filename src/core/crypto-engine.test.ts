import { afterEach, describe, expect, it, vi } from 'vitest';

/** A fresh copy of the engine module, evaluated under the globals the test stubbed. */
async function freshEngineModule() {
  vi.resetModules();
  return import('./crypto-engine.ts');
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('engineFor', () => {
  it('auto is node:crypto on Node', async () => {
    const { engineFor } = await freshEngineModule();
    expect(engineFor('auto').kind).toBe('node');
    expect(engineFor('webcrypto').kind).toBe('webcrypto');
  });

  it('auto is WebCrypto on Cloudflare Workers, although node:crypto is offered there; "node" still gets it', async () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' });
    const { engineFor } = await freshEngineModule();
    const { nodeCrypto, isWorkerd } = await import('./runtime.ts');
    expect(isWorkerd).toBe(true);
    expect(nodeCrypto).toBeDefined();
    expect(engineFor('auto').kind).toBe('webcrypto');
    expect(engineFor('node').kind).toBe('node');
  });
});
