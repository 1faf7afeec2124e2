import type { Config } from '@sallyport/config';
import { Keyring, loadOrCreateKeyFile, parseKey } from '@sallyport/crypto';
import type { Logger } from '@sallyport/log';

/**
 * The keyring for secrets at rest. Distributed services must share SALLYPORT_SECRET_KEY;
 * embedded mode may instead keep a generated key under the data directory.
 */
export async function openKeyring(
  config: Config,
  log: Logger,
  options: { allowKeyFile: boolean },
): Promise<Keyring> {
  const previous = config.previousSecretKeys.map((k, i) =>
    parseNamed(k, `SALLYPORT_SECRET_KEYS_PREVIOUS[${i}]`),
  );
  if (config.secretKey)
    return new Keyring(parseNamed(config.secretKey, 'SALLYPORT_SECRET_KEY'), previous);
  if (!options.allowKeyFile) {
    throw new Error(
      'SALLYPORT_SECRET_KEY is required: set it to the same 32-byte base64 key on every service (generate one with `openssl rand -base64 32`)',
    );
  }
  const { key, file, created } = await loadOrCreateKeyFile(config.dataDir);
  if (created)
    log.warn(
      { file },
      'generated a new secret key for stored credentials; back this file up, without it saved secrets cannot be read',
    );
  return new Keyring(key, previous);
}

function parseNamed(text: string, setting: string): Buffer {
  try {
    return parseKey(text);
  } catch (err) {
    throw new Error(`${setting}: ${(err as Error).message}`);
  }
}
