// No sessions here: signing in is a no-op (shared by the variants without sessions).
export { POST } from '../../../shared/no-session-login.mjs';
