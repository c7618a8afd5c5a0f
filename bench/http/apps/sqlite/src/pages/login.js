// Signs in once, before the measurement (shared by the sessionkit variants).
export { POST } from '../../../shared/sessionkit-login.mjs';
