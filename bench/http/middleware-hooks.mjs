// Module hooks for bench/http/middleware.bench.mjs: resolve the two virtual modules sessionkit's
// Astro middleware imports (an Astro build provides them) to the values the HTTP suite's `cookie`
// app bakes in: its integration options, and `astro:env` reading the environment.
import { registerHooks } from 'node:module';
import { sessionkitOptions } from './apps/shared/sessionkit-options.mjs';

const cookieAppOptions = { ...sessionkitOptions, loginPath: '/login', secretEnv: 'SESSIONKIT_SECRET' };
const sources = {
  'virtual:sessionkit/config': `export const userConfig = {};
export const options = ${JSON.stringify(cookieAppOptions)};
export const astro = { base: '/', dev: false };`,
  'astro:env/server': 'export const getSecret = (name) => process.env[name];',
};

registerHooks({
  resolve(specifier, context, nextResolve) {
    return Object.hasOwn(sources, specifier)
      ? { url: `sessionkit-bench:${specifier}`, shortCircuit: true }
      : nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    const specifier = url.startsWith('sessionkit-bench:') ? url.slice('sessionkit-bench:'.length) : undefined;
    return specifier === undefined
      ? nextLoad(url, context)
      : { format: 'module', source: sources[specifier], shortCircuit: true };
  },
});
