// src/endpoint.ts
import { sessionManager } from './session.ts';

export async function myEndpoint({ context }: { context: object; request: Request }) {
  const userId = sessionManager.getValue<string>(context, 'userId');
  const counter = sessionManager.getValue<number>(context, 'counter') ?? 0;

  if (!userId) {
    sessionManager.setValue(context, 'flash', { type: 'error', message: 'Please log in' });
    return { success: false, context, error: { code: 401, message: 'Unauthorized' } } as const;
  }

  sessionManager.setValue(context, 'counter', counter + 1);
  sessionManager.setValue(context, 'lastVisit', new Date().toISOString());

  return { success: true, context, response: { counter: counter + 1 } } as const;
}

export async function signIn({ context }: { context: object; request: Request }, userId: string) {
  // sessionkit addition: a new session id at sign-in defeats session fixation
  sessionManager.regenerate(context);
  sessionManager.setValue(context, 'userId', userId);
  return { success: true, context, response: { userId } } as const;
}

export async function signOut({ context }: { context: object; request: Request }) {
  sessionManager.destroyValues(context); // the cookie is deleted by saveSession
  return { success: true, context, response: {} } as const;
}
