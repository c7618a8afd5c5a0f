// src/sessionkit.ts
import { defineSessionkit } from 'sessionkit/astro/config';
import { sqliteStore } from 'sessionkit/stores/sqlite';

export default defineSessionkit({
  store: sqliteStore({ database: '/var/lib/myapp/sessions.db' }), // node:sqlite, no native build
  onEvent: (event) => console.log('[audit]', event.type), // security events; never secrets or session data
});
