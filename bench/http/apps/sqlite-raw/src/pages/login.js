// Signs in once, before the measurement: a new id in this app's store, in a plain cookie.
import { rawStoreLogin } from '../../../shared/raw-store-login.mjs';
import { createSession } from '../lib/store.mjs';

export const POST = rawStoreLogin(createSession);
