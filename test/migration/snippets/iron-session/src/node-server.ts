// src/node-server.ts: node:http, Express, Connect (where getIronSession(req, res, options) was used)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSessionManager } from 'sessionkit';

type SessionData = { username?: string };

const sessions = createSessionManager<SessionData>({
  secrets: process.env.SESSION_SECRETS!.split(','),
  cookie: { name: '__Host-myapp_session' },
});

export async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { session } = await sessions.load(req.headers.cookie);
  if (req.method === 'POST') {
    session.set('username', 'Alison');
    session.regenerate();
  }
  res.setHeader('set-cookie', await sessions.commit(session)); // [] when nothing changed
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ username: session.get('username') ?? null }));
}
