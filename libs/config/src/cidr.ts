import { isIP } from 'node:net';

/** A CIDR range as `net.BlockList.addSubnet` takes it. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses "10.0.0.0/8, fe80::/10, 192.0.2.7" into ranges; throws naming the bad entry. */
export function parseCidrList(value: string): Cidr[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      const [address = '', prefixText] = entry.split('/');
      const version = isIP(address);
      if (version === 0) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      const max = version === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new Error(`"${entry}" has an invalid prefix length`);
      }
      return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
    });
}
