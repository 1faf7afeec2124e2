import path from 'node:path';
import type { Config } from '@sallyport/config';
import { openDatabase, type Database } from '@sallyport/db';

/** PostgreSQL when DATABASE_URL is set; otherwise PGlite under the data directory (embedded only). */
export function openDatabaseFromConfig(
  config: Config,
  options: { allowPglite: boolean },
): Promise<Database> {
  if (config.databaseUrl) return openDatabase({ kind: 'postgres', url: config.databaseUrl });
  if (!options.allowPglite)
    throw new Error('DATABASE_URL is required: services in distributed mode share PostgreSQL');
  return openDatabase({ kind: 'pglite', dataDir: path.join(config.dataDir, 'db') });
}
