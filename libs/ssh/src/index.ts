export {
  fingerprintOf,
  keyTypeOf,
  algorithmsFor,
  parseHostKey,
  type ParsedHostKey,
} from './host-key.js';
export { KnownHosts, type HostKeyVerdict } from './known-hosts.js';
export {
  connectSsh,
  type ConnectFailure,
  type ConnectOptions,
  type ConnectResult,
  type SshAuth,
  type SshTarget,
} from './ssh-connect.js';
export { StartedSocket, type StartedSocketOutcome } from './started-socket.js';
export { oneSessionOnly } from './one-session.js';
export { TargetPolicy, type Cidr, type TargetCheck } from './target-policy.js';
export {
  connectPlanned,
  connectServer,
  planConnection,
  type ConnectionPlan,
  serverAuth,
  serverSecretContext,
  type ServerConnectDeps,
  type SshSettings,
} from './server-connect.js';
