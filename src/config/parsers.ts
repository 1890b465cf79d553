// Parsers for setting values. Each returns the typed value or throws a
// SettingValueError whose message says what is wrong and what is valid.
import { isIP } from 'node:net';
import { parseKubeVersion } from './kube-version.js';
import type { KubeVersion } from './kube-version.js';

export class SettingValueError extends Error {}

export type Parser<T> = (raw: string) => T;

export const text: Parser<string> = (raw) => raw;

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new SettingValueError(`must be one of: ${values.join(', ')}`);
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const bool: Parser<boolean> = (raw) => {
  const value = raw.toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new SettingValueError('must be true or false');
};

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new SettingValueError(`must be a whole number from ${min} to ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new SettingValueError(`must be a whole number from ${min} to ${max}`);
    return value;
  };
}

/** An IPv4 or IPv6 CIDR such as 10.96.0.0/16 or fd00:10:96::/112. */
export function parseCidr(raw: string): { address: string; prefix: number; family: 4 | 6 } {
  const slash = raw.indexOf('/');
  const address = slash === -1 ? raw : raw.slice(0, slash);
  const family = isIP(address);
  const prefixText = slash === -1 ? '' : raw.slice(slash + 1);
  if (family === 0 || !/^\d+$/.test(prefixText)) {
    throw new SettingValueError('must be a CIDR such as 10.96.0.0/16 or fd00:10:96::/112');
  }
  const prefix = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if (prefix > max) throw new SettingValueError(`has prefix length /${prefix}; an IPv${family} prefix is at most /${max}`);
  return { address, prefix, family: family as 4 | 6 };
}

export const cidr: Parser<string> = (raw) => {
  parseCidr(raw);
  return raw;
};

/** An address as a number (IPv4 in 32 bits, IPv6 in 128). */
export function addressValue(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = addressValue(dotted[1] as string, 4);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail = ''] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = text.includes('::') ? [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)] : groups(head);
  return all.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

/** The text of an address value, IPv6 shortened as RFC 5952 says (the longest run of zero groups as ::). */
export function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (value >> BigInt(16 * (7 - i))) & 0xffffn);
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start === -1) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** First and last address of a CIDR, and its network as text. */
export function cidrRange(raw: string): { first: bigint; last: bigint; network: string; hostBits: number; family: 4 | 6 } {
  const { address, prefix, family } = parseCidr(raw);
  const width = family === 4 ? 32 : 128;
  const hostBits = width - prefix;
  const hostMask = (1n << BigInt(hostBits)) - 1n;
  const value = addressValue(address, family);
  const first = value & ~hostMask;
  return { first, last: first | hostMask, network: `${formatAddress(first, family)}/${prefix}`, hostBits, family };
}

/** A CIDR written as its network: host bits set (10.96.0.1/16) are refused with the network meant. */
export const networkCidr: Parser<string> = (raw) => {
  const range = cidrRange(raw);
  if (addressValue(parseCidr(raw).address, range.family) !== range.first) {
    throw new SettingValueError(`has host bits set; the network is ${range.network}`);
  }
  return raw;
};

/**
 * NOTE: kubeadm refuses a Service range with more than 20 host bits (cmd/kubeadm/app/constants MaximumBitsForServiceSubnet),
 * and so does kube-apiserver before its MultiCIDRServiceAllocator (cmd/kube-apiserver/app/options/validation.go, maxCIDRBits).
 */
export const MAX_SERVICE_HOST_BITS = 20;

/** A Service ClusterIP range: a network of at most 2^20 addresses (IPv4 /12, IPv6 /108 or longer). */
export const serviceRange: Parser<string> = (raw) => {
  networkCidr(raw);
  const { hostBits, family } = cidrRange(raw);
  if (hostBits > MAX_SERVICE_HOST_BITS) {
    throw new SettingValueError(
      `is too large: kubeadm and kube-apiserver allow at most ${MAX_SERVICE_HOST_BITS} host bits (IPv${family} /${(family === 4 ? 32 : 128) - MAX_SERVICE_HOST_BITS} or longer)`,
    );
  }
  return raw;
};

/** Whether two CIDRs of one family share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
}

/** Comma-separated CIDRs; empty means none. */
export const cidrList: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      try {
        return cidr(part);
      } catch (error) {
        throw new SettingValueError(`entry "${part}" ${(error as Error).message}`);
      }
    });

/** The special nodePortAddresses value: the node's primary IPs (pkg/proxy/apis/config/types.go NodePortAddressesPrimary). */
export const NODEPORT_ADDRESSES_PRIMARY = 'primary';
/** Keywords kube-proxy 1.37 adds (types.go NodePortAddressesLocalhost, NodePortAddressesAll, v1.37.2): the loopback CIDRs, the zero CIDRs. */
export const NODEPORT_ADDRESSES_LOCALHOST = 'localhost';
export const NODEPORT_ADDRESSES_ALL = 'all';
export const NODEPORT_ADDRESS_KEYWORDS: readonly string[] = [NODEPORT_ADDRESSES_PRIMARY, NODEPORT_ADDRESSES_LOCALHOST, NODEPORT_ADDRESSES_ALL];

/**
 * nodePortAddresses: comma-separated CIDRs and the keywords "primary", "localhost", "all", each keyword
 * at most once (kube-proxy 1.37.2 pkg/proxy/apis/config/validation/validation.go
 * validateKubeProxyNodePortAddress); empty means none. Which of these a release accepts (before 1.37 only
 * "primary", and alone) is checked against KUBE_VERSION with kube-proxy's settings (src/kubeproxy/config.ts).
 */
export const nodePortAddressList: Parser<string[]> = (raw) => {
  const parts = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const keywords = parts.filter((part) => NODEPORT_ADDRESS_KEYWORDS.includes(part));
  const twice = keywords.find((k, i) => keywords.indexOf(k) !== i);
  if (twice !== undefined) throw new SettingValueError(`"${twice}" is given twice (kube-proxy refuses duplicates)`);
  const cidrs = parts.filter((part) => !NODEPORT_ADDRESS_KEYWORDS.includes(part));
  return [...keywords, ...(cidrs.length === 0 ? [] : cidrList(cidrs.join(',')))];
};

export const kubeVersion: Parser<KubeVersion> = (raw) => {
  const version = parseKubeVersion(raw);
  if (version === null || version.major !== 1) {
    throw new SettingValueError('must be a Kubernetes version such as 1.34 or 1.34.0 (a leading v is allowed)');
  }
  return version;
};

const GATE = /^([A-Z][A-Za-z0-9]*)=(true|false)$/;

/** Kubernetes feature gates, "Name=true,Other=false", as an ordered map. */
export const featureGates: Parser<Record<string, boolean>> = (raw) => {
  const gates: Record<string, boolean> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = GATE.exec(part);
    if (match === null) {
      throw new SettingValueError(`entry "${part}" must look like Name=true or Name=false (comma-separated)`);
    }
    gates[match[1] as string] = match[2] === 'true';
  }
  return gates;
};

// kind's own rule for cluster names (and a DNS-safe subset for host paths).
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?$/;

export const clusterName: Parser<string> = (raw) => {
  if (!CLUSTER_NAME.test(raw)) {
    throw new SettingValueError('must be 1-50 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit');
  }
  return raw;
};

/** A Go-style duration as kube-proxy takes it: 30s, 1m, 1h30m, 500ms. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;

export const duration: Parser<string> = (raw) => {
  if (!DURATION.test(raw)) throw new SettingValueError('must be a duration such as 30s, 1m or 1h30m');
  return raw;
};

/** Seconds in a Go-style duration (kube-proxy durations are whole units). */
export function durationSeconds(value: string): number {
  let total = 0;
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    const amount = Number(match[1]);
    total += match[2] === 'h' ? amount * 3600 : match[2] === 'm' ? amount * 60 : match[2] === 's' ? amount : amount / 1000;
  }
  return total;
}
