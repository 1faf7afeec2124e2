import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export type TargetCheck =
  | { ok: true; address: string }
  | { ok: false; reason: 'target_denied' | 'connect_failed'; message: string };

/**
 * Decides whether the gateway may connect to a target, on the address the name resolves to, so
 * that neither a hostname nor DNS rebinding leads into a denied range (cloud metadata and
 * link-local by default). The caller connects to the returned address, not the name.
 */
export class TargetPolicy {
  private readonly deny = new BlockList();
  private readonly allow: BlockList | undefined;

  constructor(options: { deny: readonly Cidr[]; allow?: readonly Cidr[] | undefined }) {
    for (const c of options.deny) this.deny.addSubnet(c.address, c.prefix, c.family);
    if (options.allow) {
      this.allow = new BlockList();
      for (const c of options.allow) this.allow.addSubnet(c.address, c.prefix, c.family);
    }
  }

  async check(host: string): Promise<TargetCheck> {
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return { ok: false, reason: 'connect_failed', message: `host ${host} could not be resolved` };
    }
    for (const address of addresses) {
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (this.deny.check(address, family) || (this.allow && !this.allow.check(address, family))) {
        return {
          ok: false,
          reason: 'target_denied',
          message: `connections to ${host} (${address}) are not allowed by the target policy`,
        };
      }
    }
    return { ok: true, address: addresses[0]! };
  }
}
