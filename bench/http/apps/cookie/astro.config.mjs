// Cookie mode (sealed cookies, the default): the shared sessionkit app config (bench/http/apps/shared).
import { sessionkitAppConfig } from '../shared/sessionkit-app.config.mjs';

export default sessionkitAppConfig();
