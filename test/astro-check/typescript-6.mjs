/**
 * Preloaded into the `astro check` process: every `require('typescript')` (and
 * `require.resolve('typescript')`) answers with this workspace's TypeScript 6. @astrojs/check,
 * @astrojs/language-server and @volar/kit need its JavaScript API, and load it through CommonJS;
 * the repository's own TypeScript (7, the Go compiler) has none, and npm hoists @volar/kit next to
 * it. (CommonJS resolution is patched rather than hooked with `module.registerHooks`, which Node
 * 22.13, the lowest Node this repository tests on, lacks.)
 */
import Module from 'node:module';
import { fileURLToPath } from 'node:url';

const typescript6 = fileURLToPath(new URL('./node_modules/typescript/lib/typescript.js', import.meta.url));
const resolveFilename = Module._resolveFilename;

Module._resolveFilename = function resolveTypescript6(request, ...rest) {
  return request === 'typescript' ? typescript6 : resolveFilename.call(this, request, ...rest);
};
