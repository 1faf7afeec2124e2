import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the bundled web UI: services/gateway/dist-ui. */
export const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist-ui');
