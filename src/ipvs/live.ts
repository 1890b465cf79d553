// Live IPVS assertions: read a node's IPVS table and addresses through a Host
// (a kind node, this machine, a helper pod), then run the same pure check as
// offline `assert`. /proc/net/ip_vs is read rather than `ipvsadm`: kind's node
// image has no ipvsadm, and the file is there whenever ip_vs is loaded.
import type { KubeVersion } from '../config/kube-version.js';
import { unavailableError } from '../errors.js';
import type { Host } from '../exec/host.js';
import { tail } from '../exec/runner.js';
import type { IpFamily } from '../kube/ip.js';
import { canonicalAddress, compareAddresses, ipFamilyOf } from '../kube/ip.js';
import type { ClusterState } from '../kube/types.js';
import { kernelHz, readKernelConfig } from '../kernel/probe.js';
import type { IpvsFinding, NodeCheck, ServicePortResult } from './diff.js';
import { checkNodeIpvs } from './diff.js';
import type { IpvsTable } from './model.js';
import { readProcIpvs } from './read-proc.js';

export const PROC_IP_VS = '/proc/net/ip_vs';
/** The dummy interface kube-proxy binds Service addresses to in IPVS mode. */
export const KUBE_IPVS0 = 'kube-ipvs0';
const IP_ADDR_TIMEOUT_MS = 20_000;

/** A kernel's HZ and where it was read ("node X's kernel config", "this machine's kernel config (...)"). */
export interface HzFact {
  readonly hz: number;
  readonly source: string;
}

export interface NodeIpvsReading {
  readonly table: IpvsTable;
  /** The kernel's HZ, when its config could be read (else persistence stays in jiffies). */
  readonly hz: number | null;
  /** Where HZ came from; null when it is unknown (persistence timeouts are then not compared). */
  readonly hzSource: string | null;
  /** The text as read, for logs. */
  readonly text: string;
}

/** CONFIG_HZ from /proc/config.gz or /boot/config-<release> on the host; null when neither is readable. */
export async function readHostHz(host: Host): Promise<number | null> {
  const release = (await host.readFile('/proc/sys/kernel/osrelease'))?.trim() ?? '';
  return kernelHz({ config: await readKernelConfig(host, release) });
}

/**
 * The node's IPVS table from /proc/net/ip_vs, persistence read with the node's HZ: from its own kernel
 * config, else `fallback` (where the provider found the same kernel's config).
 */
export async function readNodeIpvs(host: Host, fallback: HzFact | null = null): Promise<NodeIpvsReading> {
  const text = await host.readFile(PROC_IP_VS);
  if (text === null) {
    throw unavailableError(`${host.description} has no ${PROC_IP_VS}: the ip_vs kernel module is not loaded there`, {
      hint: 'kube-proxy in ipvs mode loads it when it starts; is kube-proxy running in ipvs mode? (`local-up doctor`, `local-up status`)',
    });
  }
  const own = await readHostHz(host);
  const hz: HzFact | null = own !== null ? { hz: own, source: `${host.description}'s kernel config` } : fallback;
  return { table: readProcIpvs(text, hz === null ? {} : { hz: hz.hz }), hz: hz?.hz ?? null, hzSource: hz?.source ?? null, text };
}

export interface InterfaceAddress {
  /** Interface name without the "@ifN" peer suffix. */
  readonly ifname: string;
  readonly family: IpFamily;
  /** Canonical address. */
  readonly address: string;
  readonly prefix: number;
}

const IP_ADDR_LINE = /^\s*\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9A-Fa-f.:]+)\/(\d+)\b/;

/** Parses `ip -o addr` (iproute2 or busybox): one address per line. Lines it does not know are skipped. */
export function parseIpAddrOneline(text: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const match = IP_ADDR_LINE.exec(line);
    if (match === null) continue;
    const address = canonicalAddress(match[3] as string);
    const family = ipFamilyOf(address);
    if (family === null) continue;
    addresses.push({ ifname: match[1] as string, family, address, prefix: Number(match[4]) });
  }
  return addresses;
}

export interface NodeAddresses {
  /** Every address on the node's interfaces except kube-ipvs0 (what kube-proxy serves NodePorts on). */
  readonly node: readonly string[];
  /** Addresses bound to kube-ipvs0. */
  readonly kubeIpvs0: readonly string[];
  /** The `ip -o addr` text, for logs. */
  readonly text: string;
}

export async function readNodeAddresses(host: Host): Promise<NodeAddresses> {
  const result = await host.run('ip', ['-o', 'addr', 'show'], { timeoutMs: IP_ADDR_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw unavailableError(`cannot list the addresses of ${host.description}: ${result.command} exited with ${result.exitCode ?? result.signal ?? 'an error'}`, {
      details: tail(result.stderr || result.stdout, 5),
      hint: 'the node needs the `ip` command (iproute2 or busybox)',
    });
  }
  const all = parseIpAddrOneline(result.stdout);
  return {
    node: all.filter((a) => a.ifname !== KUBE_IPVS0).map((a) => a.address),
    kubeIpvs0: all.filter((a) => a.ifname === KUBE_IPVS0).map((a) => a.address).sort(compareAddresses),
    text: result.stdout,
  };
}

export interface LiveNodeInput {
  readonly cluster: ClusterState;
  readonly nodeName: string;
  readonly table: IpvsTable;
  readonly addresses: Pick<NodeAddresses, 'node' | 'kubeIpvs0'>;
  readonly families: readonly IpFamily[];
  readonly scheduler: string;
  readonly nodePortAddresses: readonly string[];
  readonly excludeCidrs: readonly string[];
  /** The node's topology.kubernetes.io/zone label (zone hints apply only with it); absent or null: none. */
  readonly zone?: string | null;
  /** The kube-proxy release running there, where the model's behaviour depends on it; absent: the newest. */
  readonly kubeVersion?: KubeVersion;
  /** The Node object's InternalIPs (nodePortAddresses "primary"). */
  readonly primaryAddresses?: readonly string[];
}

export const KUBE_IPVS0_LABEL = `${KUBE_IPVS0} addresses`;

/**
 * The node's table and kube-ipvs0 addresses against what kube-proxy should have programmed.
 * kube-ipvs0 findings join the diff as one more group, so text, JSON and JUnit reports show them.
 */
export function checkLiveNode(input: LiveNodeInput): NodeCheck {
  const base = checkNodeIpvs({
    cluster: input.cluster,
    table: input.table,
    node: {
      name: input.nodeName,
      addresses: input.addresses.node,
      nodePortAddresses: input.nodePortAddresses,
      scheduler: input.scheduler,
      zone: input.zone ?? null,
      ...(input.kubeVersion === undefined ? {} : { kubeVersion: input.kubeVersion }),
      ...(input.primaryAddresses === undefined ? {} : { primaryAddresses: input.primaryAddresses }),
    },
    families: input.families,
    excludeCidrs: input.excludeCidrs,
  });
  const findings = compareKubeIpvs0(base.expected.kubeIpvs0Addresses, input.addresses.kubeIpvs0, input.families);
  const group: ServicePortResult = { service: null, label: KUBE_IPVS0_LABEL, virtualServers: 0, ok: !findings.some((f) => f.severity === 'failure'), findings };
  const failures = findings.filter((f) => f.severity === 'failure').length;
  const diff = base.diff;
  return {
    ...base,
    diff: {
      ...diff,
      ok: diff.ok && failures === 0,
      failures: diff.failures + failures,
      warnings: diff.warnings + findings.length - failures,
      services: [...diff.services, group],
    },
  };
}

/**
 * Missing addresses fail (traffic to that Service IP is not accepted locally); extra ones warn:
 * kube-proxy unbinds them on its next sync, so they can be a Service deleted a moment ago.
 */
export function compareKubeIpvs0(expected: readonly string[], actual: readonly string[], families: readonly IpFamily[]): IpvsFinding[] {
  const inScope = (address: string) => families.includes(ipFamilyOf(address) ?? 4);
  const have = new Set(actual.filter(inScope));
  const want = new Set(expected.filter(inScope));
  const findings: IpvsFinding[] = [];
  for (const address of [...want].sort(compareAddresses)) {
    if (have.has(address)) continue;
    findings.push({
      kind: 'missing-kube-ipvs0-address', severity: 'failure', virtualServer: `${KUBE_IPVS0}/${address}`, realServer: null,
      expected: address, actual: null, message: `${address} is not bound to ${KUBE_IPVS0}`,
    });
  }
  for (const address of [...have].sort(compareAddresses)) {
    if (want.has(address)) continue;
    findings.push({
      kind: 'unexpected-kube-ipvs0-address', severity: 'warning', virtualServer: `${KUBE_IPVS0}/${address}`, realServer: null,
      expected: null, actual: address, message: `${address} is bound to ${KUBE_IPVS0} but no Service uses it`,
    });
  }
  return findings;
}

/** A node's check, and the HZ its persistence timeouts were read with (null: they were not compared). */
export type LiveNodeCheck = NodeCheck & { readonly hz: HzFact | null };

/** Reads one node through its Host and checks it. */
export async function assertLiveNode(
  host: Host,
  nodeName: string,
  cluster: ClusterState,
  options: Omit<LiveNodeInput, 'cluster' | 'nodeName' | 'table' | 'addresses'>,
  hzFallback: HzFact | null = null,
): Promise<LiveNodeCheck> {
  const [reading, addresses] = await Promise.all([readNodeIpvs(host, hzFallback), readNodeAddresses(host)]);
  const hz = reading.hz === null || reading.hzSource === null ? null : { hz: reading.hz, source: reading.hzSource };
  return { ...checkLiveNode({ ...options, cluster, nodeName, table: reading.table, addresses }), hz };
}
