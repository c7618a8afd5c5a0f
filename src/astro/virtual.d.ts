/** Types of the module the integration generates (see `integration.ts`). */
declare module 'virtual:sessionkit/config' {
  import type { SessionkitIntegrationOptions, SessionkitRuntimeConfig } from './config.ts';
  export const userConfig: SessionkitRuntimeConfig;
  export const options: SessionkitIntegrationOptions & {
    loginPath: string;
    secretEnv: string;
    protect: NonNullable<SessionkitIntegrationOptions['protect']>;
  };
  export const astro: { base: string; dev: boolean };
}

declare module 'astro:env/server' {
  export function getSecret(name: string): string | undefined;
}
