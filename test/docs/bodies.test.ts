/**
 * The JSON error bodies the docs quote (`{ "error": { "code": "ERR_CSRF", ... } }`, in prose or in
 * blocks) against the bodies sessionkit sends: each quoted body must have the shape of the real
 * body for its code (a placeholder code such as `ERR_…`: of every real body), and each literal
 * value the real value. A quote written by hand cannot drift from the code again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSessionkit } from 'sessionkit';
import { tooManyRequests } from 'sessionkit/ratelimit';
import { setSession } from 'sessionkit/server';
import { memoryStore } from 'sessionkit/stores/memory';
import { redisStore } from 'sessionkit/stores/redis';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/services.ts';
import { documents, repoRoot } from './blocks.ts';

/** A documented value: a literal, one of several literals, a placeholder, or an object. */
type Shape =
  | { readonly kind: 'literal'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'any' }
  | { readonly kind: 'object'; readonly entries: ReadonlyMap<string, Shape> };

const placeholders = new Set(['…', '...', 'n']);

/** Reads a quoted body tolerantly: `…` placeholders, `"A" | "B"` alternatives, a key without a value, `...` for "more keys". */
function parseShape(text: string): Shape {
  let at = 0;
  const space = () => {
    while (/\s/.test(text[at] ?? '')) at++;
  };
  const string = (): string => {
    const end = text.indexOf('"', at + 1);
    const value = text.slice(at + 1, end);
    at = end + 1;
    return value;
  };
  const value = (): Shape => {
    space();
    if (text[at] === '{') return object();
    if (text[at] === '"') {
      const values: (string | number)[] = [string()];
      space();
      while (text[at] === '|') {
        at++;
        space();
        values.push(string());
        space();
      }
      return values.some((entry) => placeholders.has(String(entry)) || /…$/.test(String(entry)))
        ? { kind: 'any' }
        : { kind: 'literal', values };
    }
    const bare = /^[^,}\s]+/.exec(text.slice(at))?.[0] ?? '';
    at += bare.length;
    return Number.isFinite(Number(bare)) && bare !== '' ? { kind: 'literal', values: [Number(bare)] } : { kind: 'any' };
  };
  const object = (): Shape => {
    at++; // {
    const entries = new Map<string, Shape>();
    for (;;) {
      space();
      if (text[at] === '}') {
        at++;
        return { kind: 'object', entries };
      }
      if (text.startsWith('...', at) || text[at] === '…') {
        at += text[at] === '…' ? 1 : 3;
      } else {
        const key = string();
        space();
        if (text[at] === ':') {
          at++;
          entries.set(key, value());
        } else entries.set(key, { kind: 'any' });
      }
      space();
      if (text[at] === ',') at++;
    }
  };
  return value();
}

/** Every `{...}` in the docs that holds an `"error"` key, with where it is. */
function quotedBodies(): { where: string; text: string }[] {
  const found: { where: string; text: string }[] = [];
  for (const doc of documents) {
    const source = readFileSync(join(repoRoot, doc), 'utf8');
    for (const match of source.matchAll(/\{\s*"error"\s*:/g)) {
      let depth = 0;
      let end = match.index;
      for (; end < source.length; end++) {
        if (source[end] === '{') depth++;
        if (source[end] === '}' && --depth === 0) break;
      }
      const line = source.slice(0, match.index).split('\n').length;
      found.push({ where: `${doc}:${line}`, text: source.slice(match.index, end + 1) });
    }
  }
  return found;
}

/** Where `documented` departs from `actual` (empty when it has the same shape and values). */
function differences(documented: Shape, actual: unknown, path = ''): string[] {
  if (documented.kind === 'any') return [];
  if (documented.kind === 'literal') {
    return documented.values.includes(actual as string | number)
      ? []
      : [
          `${path}: documented ${documented.values.map((entry) => JSON.stringify(entry)).join(' | ')}, sent ${JSON.stringify(actual)}`,
        ];
  }
  if (typeof actual !== 'object' || actual === null)
    return [`${path}: documented an object, sent ${JSON.stringify(actual)}`];
  return [...documented.entries].flatMap(([key, shape]) =>
    key in actual
      ? differences(shape, (actual as Record<string, unknown>)[key], `${path}.${key}`)
      : [`${path}.${key}: not sent`],
  );
}

/** The error bodies sessionkit sends, by code. */
const sent = new Map<string, unknown>();

beforeAll(async () => {
  const kit = createSessionkit({
    secrets: 'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni',
    store: memoryStore(),
    protect: [
      { pattern: '/api/me', authenticated: true },
      { pattern: '/api/admin/**', role: 'admin' },
    ],
  });
  const json = { accept: 'application/json' };
  const record = async (response: Response) => {
    const body = (await response.json()) as { error: { code: string } };
    sent.set(body.error.code, body);
  };
  await record(await kit.handle(new Request('https://app.test/api/me', { headers: json }), () => new Response()));
  await record(await kit.handle(new Request('https://app.test/api/%E0%A4%A', { headers: json }), () => new Response()));
  const signIn = await kit.handle(new Request('https://app.test/'), async () => {
    await setSession({ userId: 'u_1', role: 'user' });
    return new Response();
  });
  const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  // Signed in, a post without its token: what the docs' examples show.
  await record(
    await kit.handle(
      new Request('https://app.test/api/me', {
        method: 'POST',
        headers: { ...json, cookie, origin: 'https://app.test' },
      }),
      () => new Response(),
    ),
  );
  await record(
    await kit.handle(
      new Request('https://app.test/api/admin/x', { headers: { ...json, cookie } }),
      () => new Response(),
    ),
  );
  await record(tooManyRequests(30));
  // A store nobody listens for: the same session cookie, looked up in a Redis that is not there.
  const client = new Redis({
    host: '127.0.0.1',
    port: await freePort(),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  const down = createSessionkit({
    secrets: 'f3Qk9Zt1Lx8bW2nR7cVm4yHs6pJd0gEu5aKqTzXo1Ni',
    store: redisStore({ client }),
    protect: [{ pattern: '/api/me', authenticated: true }],
  });
  await record(
    await down.handle(new Request('https://app.test/api/me', { headers: { ...json, cookie } }), () => new Response()),
  );
  client.disconnect();
});

describe('error bodies quoted in the docs are the bodies sessionkit sends', () => {
  it('collects the real bodies', () => {
    expect([...sent.keys()].sort()).toEqual([
      'ERR_BAD_REQUEST',
      'ERR_CSRF',
      'ERR_FORBIDDEN',
      'ERR_RATE_LIMITED',
      'ERR_STORE_UNAVAILABLE',
      'ERR_UNAUTHENTICATED',
    ]);
  });

  it('finds the quoted bodies (a check on the search)', () => {
    expect(quotedBodies().length).toBeGreaterThan(5);
  });

  it.each(quotedBodies().map((quote) => [quote.where, quote] as const))('%s', (_, quote) => {
    const shape = parseShape(quote.text);
    expect(shape.kind).toBe('object');
    const error = shape.kind === 'object' ? shape.entries.get('error') : undefined;
    const code = error?.kind === 'object' ? error.entries.get('code') : undefined;
    // A quoted code names the bodies to compare with; a placeholder code, every body.
    const codes = code?.kind === 'literal' ? code.values.map(String) : [...sent.keys()];
    for (const known of codes) {
      expect(sent.has(known), `${quote.text}: ${known} is not a code sessionkit sends in a body`).toBe(true);
      expect(differences(shape, sent.get(known)), `${quote.text} against ${JSON.stringify(sent.get(known))}`).toEqual(
        [],
      );
    }
  });
});
