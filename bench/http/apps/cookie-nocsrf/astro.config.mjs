// Diagnostic variant (not in the default run): the `cookie` app with CSRF protection turned off,
// so against `cookie` it shows what the CSRF token issued on every request costs.
import { sessionkitAppConfig } from '../shared/sessionkit-app.config.mjs';
import { sessionkitOptions } from '../shared/sessionkit-options.mjs';

export default sessionkitAppConfig({ ...sessionkitOptions, csrf: false });
