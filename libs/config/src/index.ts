export { loadConfig, ConfigError, type Config } from './config.js';
export { parseCidrList } from './cidr.js';
