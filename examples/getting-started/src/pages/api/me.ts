// src/pages/api/me.ts (covered by { pattern: '/api/me', authenticated: true })
import type { APIRoute } from 'astro';
import { requireSession } from 'sessionkit/server';

export const GET: APIRoute = (context) => Response.json({ user: requireSession(context) });
