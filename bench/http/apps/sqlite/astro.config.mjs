// SQLite mode (src/sessionkit.mjs): the shared sessionkit app config (bench/http/apps/shared).
import { sessionkitAppConfig } from '../shared/sessionkit-app.config.mjs';

export default sessionkitAppConfig();
