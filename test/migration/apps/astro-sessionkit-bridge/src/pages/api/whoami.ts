// Request-scoped helpers without a context argument: they go through the custom context store.
import type { APIRoute } from 'astro';
import { getSession, hasRole } from 'sessionkit/server';
import { contextStoreCalls } from '../../sessionkit.ts';

export const GET: APIRoute = async () =>
  new Response(
    JSON.stringify({ userId: getSession()?.userId ?? null, admin: hasRole('admin'), calls: { ...contextStoreCalls } }),
  );
