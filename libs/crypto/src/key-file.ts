import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKey, parseKey } from './keyring.js';

/**
 * Embedded mode's key: read from `<dataDir>/secret.key`, or generated there with 0600
 * permissions on first start. `created` tells the caller to say so, since losing this file
 * makes every stored secret unreadable.
 */
export async function loadOrCreateKeyFile(
  dataDir: string,
): Promise<{ key: Buffer; file: string; created: boolean }> {
  const file = path.join(dataDir, 'secret.key');
  try {
    return { key: parseKey(await readFile(file, 'utf8')), file, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`cannot use ${file}: ${(err as Error).message}`);
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = generateKey();
  // 'wx' so two processes racing on first start cannot both write a different key.
  try {
    await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKeyFile(dataDir);
    throw err;
  }
  return { key, file, created: true };
}
