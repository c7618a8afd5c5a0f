// The README's "Update Session Data", migrated: no separate database update of the session.
import type { APIRoute } from 'astro';
import { updateSession } from 'sessionkit/server';

export const POST: APIRoute = async (context) => {
  const { newRole } = await context.request.json();

  // Update in SessionKit
  await updateSession({ role: newRole }, context);

  return new Response(JSON.stringify({ success: true }));
};
