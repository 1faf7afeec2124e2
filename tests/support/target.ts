import type { SshdInfo } from '../harness/sshd.js';

/** Server-registry fields for the test sshd, with a unique name. */
export function sshdServer(
  sshd: Pick<SshdInfo, 'host' | 'port' | 'user' | 'password'>,
  overrides: Record<string, unknown> = {},
) {
  return {
    name: `sshd-${Math.random().toString(36).slice(2, 10)}`,
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    auth: { type: 'password', password: sshd.password },
    ...overrides,
  };
}

export const marker = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;
