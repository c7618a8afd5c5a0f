/**
 * docs/configuration.md states defaults; this checks the main ones against what the factories
 * actually resolve, so the reference cannot silently drift from the code.
 */
import { readFileSync } from 'node:fs';
import { createKeyRing, createSessionManager, defaultCookieName, defaultExpiry } from 'sessionkit';
import { createCsrfProtection } from 'sessionkit/csrf';
import { createGuard, DEFAULT_MAX_PATH_LENGTH, DEFAULT_RETURN_TO_PARAM } from 'sessionkit/guard';
import { describe, expect, it } from 'vitest';
import { testSecrets } from '../support/fixtures.ts';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** The table row documenting `option` in the section whose heading starts with `heading`. */
function row(heading: string, option: string): string {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const line = section.split('\n').find((entry) => entry.startsWith(`| \`${option}\` |`));
  expect(line, `${heading}: ${option}`).toBeDefined();
  return line!;
}

function expectDefault(heading: string, option: string, value: unknown): void {
  expect(row(heading, option), `${heading}: ${option}`).toContain(`\`${JSON.stringify(value).replaceAll('"', "'")}\``);
}

describe('docs/configuration.md defaults match the code', () => {
  const manager = createSessionManager({ secrets: testSecrets[0] });

  it('cookie options', () => {
    expect(manager.cookie.name).toBe(defaultCookieName);
    expectDefault('Cookie options', 'name', manager.cookie.name);
    expectDefault('Cookie options', 'path', manager.cookie.path);
    expectDefault('Cookie options', 'secure', manager.cookie.secure);
    expectDefault('Cookie options', 'sameSite', manager.cookie.sameSite);
    expectDefault('Cookie options', 'partitioned', manager.cookie.partitioned);
    expectDefault('Cookie options', 'maxChunks', manager.cookie.maxChunks);
  });

  it('expiry options', () => {
    expectDefault('Expiry options', 'absoluteTimeoutSeconds', manager.expiry.absoluteTimeoutSeconds);
    expectDefault('Expiry options', 'idleTimeoutSeconds', manager.expiry.idleTimeoutSeconds);
    expectDefault('Expiry options', 'renewAfterFraction', defaultExpiry.renewAfterFraction);
    expectDefault('Expiry options', 'rolling', manager.expiry.rolling);
    expect(manager.expiry.renewAfterSeconds).toBe(Math.floor(86400 * 0.1));
    const short = createSessionManager({ secrets: testSecrets[0], expiry: { absoluteTimeoutSeconds: 3600 } });
    expect(short.expiry.idleTimeoutSeconds).toBe(3600);
  });

  it('CSRF options', () => {
    const csrf = createCsrfProtection({ keyRing: createKeyRing(testSecrets[0]) });
    expectDefault('`createCsrfProtection`', 'headerName', csrf.headerName);
    expectDefault('`createCsrfProtection`', 'fieldName', csrf.fieldName);
    expectDefault('`createCsrfProtection`', 'maxAgeSeconds', 86400);
    expectDefault('The `sessionkit()` integration', 'headerName', csrf.headerName);
    expectDefault('The `sessionkit()` integration', 'fieldName', csrf.fieldName);
  });

  it('guard options', () => {
    const guard = createGuard({ rules: [] });
    expectDefault('`createGuard` and rules', 'loginPath', guard.loginLocation);
    expectDefault('`createGuard` and rules', 'returnToParam', DEFAULT_RETURN_TO_PARAM);
    expectDefault('`createGuard` and rules', 'maxPathLength', DEFAULT_MAX_PATH_LENGTH);
    expectDefault('The `sessionkit()` integration', 'loginPath', guard.loginLocation);
    expectDefault('The `sessionkit()` integration', 'secretEnv', 'SESSIONKIT_SECRET');
  });
});
