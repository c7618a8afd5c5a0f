import { describe, expect, it } from 'vitest';
import { optionText } from './config-source.ts';

const config = [
  "import node from '@astrojs/node';",
  "import { defineConfig } from 'astro/config';",
  "import sessionkit from 'sessionkit';",
  "import { redisStore, unused } from 'sessionkit/stores/redis';",
  "import * as audit from './src/lib/audit.ts';",
  "import { Redis } from 'ioredis';",
  '',
  'const client = new Redis(process.env.REDIS_URL);',
  '',
  'export default defineConfig({',
  '  integrations: [',
  '    sessionkit({',
  "      loginPath: '/login', // a comment, with a comma",
  '      /* store: not this one */',
  "      store: redisStore({ client, prefix: 'app:' }),",
  '      onEvent(event) {',
  "        audit.write(event, { tag: '}' });",
  '      },',
  '      logger,',
  "      protect: [{ pattern: '/admin/**', role: 'admin' }],",
  '    }),',
  '  ],',
  '});',
].join('\n');
const fromSrc = (specifier: string) => specifier.replace('./src/', './');

describe('optionText: an option of the sessionkit() call as written', () => {
  it('finds the property after the comments, with the imports it uses and the local names it needs', () => {
    expect(optionText(config, 12, 5, 'store', fromSrc)).toEqual({
      property: "store: redisStore({ client, prefix: 'app:' })",
      imports: ["import { redisStore } from 'sessionkit/stores/redis';"],
      localNames: ['client'],
    });
  });

  it('reads method shorthand and property shorthand; rewrites relative imports for the new file', () => {
    expect(optionText(config, 12, 5, 'onEvent', fromSrc)).toEqual({
      property: "onEvent(event) {\n        audit.write(event, { tag: '}' });\n      }",
      imports: ["import * as audit from './lib/audit.ts';"],
      localNames: [],
    });
    expect(optionText(config, 12, 5, 'logger', fromSrc)?.property).toBe('logger');
  });

  it('is undefined when the call, its object or the option is not there', () => {
    expect(optionText(config, 12, 5, 'schema', fromSrc)).toBeUndefined();
    expect(optionText(config, 1, 1, 'store', fromSrc)).toBeUndefined();
    expect(optionText('sessionkit(options)', 1, 1, 'store', fromSrc)).toBeUndefined();
  });
});
