export { Keyring, parseKey, generateKey, keyIdOf } from './keyring.js';
export { loadOrCreateKeyFile } from './key-file.js';
export { randomToken, hashToken } from './tokens.js';
