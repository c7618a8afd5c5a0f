/**
 * The app's settings from the environment the test gives the server process
 * (`SESSIONKIT_SECRET`, `SESSIONKIT_CRYPTO_ENGINE`, `SESSIONKIT_STORE`).
 */
import type { AppSettings } from './app.ts';

/** Reads the settings with the runtime's own environment getter; throws naming a missing variable. */
export function settingsFrom(getEnv: (name: string) => string | undefined, runtime: string): AppSettings {
  const secret = getEnv('SESSIONKIT_SECRET');
  if (secret === undefined) throw new Error('Set SESSIONKIT_SECRET.');
  const cryptoEngine = getEnv('SESSIONKIT_CRYPTO_ENGINE') ?? 'auto';
  if (cryptoEngine !== 'auto' && cryptoEngine !== 'webcrypto' && cryptoEngine !== 'node') {
    throw new Error('SESSIONKIT_CRYPTO_ENGINE must be auto, webcrypto or node.');
  }
  const store = getEnv('SESSIONKIT_STORE') ?? 'cookie';
  if (store !== 'cookie' && store !== 'sqlite') throw new Error('SESSIONKIT_STORE must be cookie or sqlite.');
  return { secret, cryptoEngine, store, runtime };
}
