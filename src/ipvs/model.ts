// The IPVS table as data. Readers (ipvsadm listing, ipvsadm save format,
// /proc/net/ip_vs) produce an IpvsTable; the expected-state model produces
// ExpectedVirtualServer lists; the diff compares the two.
import { isIP } from 'node:net';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP' | 'FWM';

export interface Persistence {
  /** Seconds, or jiffies when `unit` is 'jiffies' (/proc/net/ip_vs without a known HZ); null if unknown. */
  readonly timeout: number | null;
  readonly unit: 'seconds' | 'jiffies';
  /** Persistence netmask (IPv4 dotted, or IPv6 prefix length as text); null when the default. */
  readonly netmask: string | null;
  /** Persistence engine name (e.g. "sip"), null when none. */
  readonly pe: string | null;
}

export interface IpvsDestination {
  /** Canonical address (IPv6 compressed, no brackets); a host name only from non-numeric listings. */
  readonly address: string;
  readonly port: number;
  /** Masq, Local, Route, Tunnel, or a fork's own word (FullNat, SNAT...). */
  readonly forward: string;
  readonly weight: number;
  readonly activeConns: number | null;
  readonly inactiveConns: number | null;
}

export interface IpvsService {
  readonly protocol: IpvsProtocol;
  /** null for FWM services. */
  readonly address: string | null;
  readonly port: number | null;
  /** Only for FWM services. */
  readonly fwmark: number | null;
  /** 4 or 6; for FWM services from the "IPv6" marker. */
  readonly family: 4 | 6;
  readonly scheduler: string;
  /** Scheduler flags such as "sh-port" or "flag-1"; "ops" for one-packet scheduling. */
  readonly flags: readonly string[];
  readonly persistent: Persistence | null;
  readonly destinations: readonly IpvsDestination[];
}

export type IpvsSourceFormat = 'ipvsadm-list' | 'ipvsadm-save' | 'proc';

export interface IpvsTable {
  readonly format: IpvsSourceFormat;
  readonly services: readonly IpvsService[];
  /** Lines or words the reader did not understand (reported, never fatal). */
  readonly unknown: readonly string[];
  /**
   * Columns this text form does not carry (save has no connection counters, /proc no scheduler
   * flags or pe, `ipvsadm -Ln --stats` no scheduler, forward or weight). Values for them above are
   * placeholders ('' , 0, null, []), never data: do not compare them. Absent or empty: all present.
   */
  readonly absent?: readonly IpvsColumn[];
}

/** A piece of the table that one text form may lack (see IpvsTable.absent). */
export type IpvsColumn = 'scheduler' | 'flags' | 'pe' | 'persistence' | 'forward' | 'weight' | 'connections';

/** What kube-proxy should have programmed for one virtual server. */
export interface ExpectedRealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  /** The Service port's name ("" when unnamed). */
  readonly portName: string;
}

export type VirtualServerKind = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';

export interface ExpectedVirtualServer {
  readonly protocol: Exclude<IpvsProtocol, 'FWM'>;
  readonly address: string;
  readonly port: number;
  readonly scheduler: string;
  readonly persistent: { readonly timeout: number } | null;
  readonly realServers: readonly ExpectedRealServer[];
  /** Which Service and port this virtual server belongs to, and why it exists. */
  readonly service: ServiceRef;
  readonly kind: VirtualServerKind;
}

/** The key that identifies a virtual server: "TCP/10.96.0.1:443", "UDP/[fd00::a]:53", "FWM/256". */
export function virtualServerKey(vs: { protocol: IpvsProtocol; address: string | null; port: number | null; fwmark?: number | null }): string {
  if (vs.protocol === 'FWM') return `FWM/${vs.fwmark ?? '?'}`;
  const address = vs.address ?? '?';
  return `${vs.protocol}/${isIpv6(address) ? `[${address}]` : address}:${vs.port ?? '?'}`;
}

/** "10.244.1.5:8080" or "[fd00::5]:8080". */
export function hostPort(address: string, port: number): string {
  return `${isIpv6(address) ? `[${address}]` : address}:${port}`;
}

/** An IPv6 address has a colon; IPv4 addresses and host names never do (the regex behind isIP is skipped for them: keys are made for every table line). */
const isIpv6 = (address: string): boolean => address.includes(':') && isIP(address) === 6;
