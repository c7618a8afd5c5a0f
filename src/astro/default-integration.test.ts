import { describe, expect, it } from 'vitest';
import sessionkit from '../index.ts';
import { sessionkit as direct } from './index.ts';

describe('root default export (astro add sessionkit)', () => {
  it('is an integration with the same hooks as sessionkit/astro', () => {
    const lazy = sessionkit();
    expect(lazy.name).toBe('sessionkit');
    expect(Object.keys(lazy.hooks).sort()).toEqual(Object.keys(direct().hooks).sort());
  });

  it('validates options when Astro runs the setup hook', async () => {
    const integration = sessionkit({ protect: [{ pattern: 'no-slash', role: 'admin' }] });
    const setup = integration.hooks['astro:config:setup'] as (parameters: unknown) => Promise<void>;
    await expect(setup({ config: { base: '/', root: new URL('file:///tmp/') } })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
  });
});
