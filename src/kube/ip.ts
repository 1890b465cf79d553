// Small IP helpers for the Kubernetes readers, the expected-state model and the
// diff: family, CIDR containment, loopback/link-local tests and a stable order.
import { isIP } from 'node:net';
import { parseCidr } from '../config/parsers.js';

export type IpFamily = 4 | 6;

/** 4, 6, or null when the text is not an IP address (IPv6 with a %zone counts as not one). */
export function ipFamilyOf(text: string): IpFamily | null {
  if (ipv4Number(text) >= 0) return 4;
  if (text.includes('%')) return null;
  const family = isIP(text);
  return family === 0 ? null : (family as IpFamily);
}

/** The address as a number: 32 bits for IPv4, 128 bits for IPv6 (IPv4-mapped forms stay IPv6). */
export function addressValue(address: string): bigint {
  const family = isIP(address);
  if (family === 4) return ipv4Value(address);
  if (family !== 6) throw new TypeError(`not an IP address: ${address}`);
  let text = address;
  // An IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail !== null) {
    const v4 = ipv4Value(tail[1] as string);
    text = `${text.slice(0, tail.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function ipv4Value(address: string): bigint {
  return BigInt(ipv4Number(address));
}

/**
 * A dotted-quad IPv4 address as a plain number, or -1 when the text is not one (the same texts
 * node's isIP calls IPv4: four decimal octets up to 255, no leading zeros). The sorts compare
 * tens of thousands of addresses: this keeps them off BigInt and its garbage.
 */
export function ipv4Number(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

export interface Cidr {
  readonly family: IpFamily;
  readonly prefix: number;
  /** The network address as a number. */
  readonly network: bigint;
  readonly text: string;
}

/** Parses a CIDR already validated by the settings parser (or throws its SettingValueError). */
export function toCidr(text: string): Cidr {
  const { address, prefix, family } = parseCidr(text);
  const bits = family === 4 ? 32 : 128;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family, prefix, network: addressValue(address) & mask, text };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const family = ipFamilyOf(address);
  if (family !== cidr.family) return false;
  const bits = family === 4 ? 32 : 128;
  const shift = BigInt(bits - cidr.prefix);
  return addressValue(address) >> shift === cidr.network >> shift;
}

/** 127.0.0.0/8 or ::1 (what Go's net.IP.IsLoopback accepts, IPv4-mapped loopback included). */
export function isLoopback(address: string): boolean {
  const family = ipFamilyOf(address);
  if (family === 4) return address.startsWith('127.');
  if (family !== 6) return false;
  const value = addressValue(address);
  return value === 1n || (value >> 24n === 0xffff7fn);
}

/** fe80::/10. */
export function isIpv6LinkLocal(address: string): boolean {
  return ipFamilyOf(address) === 6 && addressValue(address) >> 118n === 0x3fan;
}

/** Orders addresses IPv4 first, then numerically; non-IPs (host names) last, by text. */
export function compareAddresses(a: string, b: string): number {
  const na = ipv4Number(a);
  const nb = ipv4Number(b);
  if (na >= 0 && nb >= 0) return na - nb;
  const fa = ipFamilyOf(a) ?? 9;
  const fb = ipFamilyOf(b) ?? 9;
  if (fa !== fb) return fa - fb;
  if (fa === 9) return a < b ? -1 : a > b ? 1 : 0;
  const va = addressValue(a);
  const vb = addressValue(b);
  return va < vb ? -1 : va > vb ? 1 : 0;
}

/** Canonical text of an IP address: IPv6 compressed and lower-case, no brackets. Non-IPs are returned as given. */
export function canonicalAddress(text: string): string {
  if (ipv4Number(text) >= 0) return text;
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare) !== 6) return bare;
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
}
