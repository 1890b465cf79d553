// Compares the IPVS table a node has with the one kube-proxy should have
// programmed, and says what differs, grouped by Service port. Linear: both
// sides are indexed by virtualServerKey and by real server address:port.
import type { ClusterState } from '../kube/types.js';
import type { Cidr, IpFamily } from '../kube/ip.js';
import { canonicalAddress, cidrContains, ipFamilyOf, toCidr } from '../kube/ip.js';
import type { ExpectNode, ExpectedIpvsState } from './expect.js';
import { describeRef, expectIpvsStateForFamilies } from './expect.js';
import type { ExpectedVirtualServer, IpvsColumn, IpvsDestination, IpvsService, IpvsTable, ServiceRef } from './model.js';
import { hostPort, virtualServerKey } from './model.js';

/** kube-proxy (v1.27+) checks the scheduler works by creating and deleting this virtual server (§3.11). */
export const PROBE_ADDRESS = '198.51.100.0';
export const PROBE_PORT = 20000;

/** Forwarding methods kube-proxy's destinations may show: it sets none (Masq); the kernel may report a local destination as Local. */
const ACCEPTED_FORWARDS = new Set(['Masq', 'Local']);

/** The columns the diff compares (when the table's form carries them). */
const COMPARED_COLUMNS: readonly IpvsColumn[] = ['scheduler', 'persistence', 'weight', 'forward'];

/** Examples listed in an aggregated note. */
const NOTE_EXAMPLES = 5;

export type FindingKind =
  | 'missing-virtual-server'
  | 'unexpected-virtual-server'
  | 'scheduler-mismatch'
  | 'persistence-mismatch'
  | 'missing-real-server'
  | 'unexpected-real-server'
  | 'weight-mismatch'
  | 'forward-mismatch'
  | 'draining-real-server'
  // Live mode only (src/ipvs/live.ts): the node's kube-ipvs0 dummy interface.
  | 'missing-kube-ipvs0-address'
  | 'unexpected-kube-ipvs0-address';

/** Failures make the check fail; warnings (draining real servers) do not. */
export type FindingSeverity = 'failure' | 'warning';

export interface IpvsFinding {
  readonly kind: FindingKind;
  readonly severity: FindingSeverity;
  /** virtualServerKey of the virtual server, e.g. "TCP/10.96.0.20:80". */
  readonly virtualServer: string;
  /** "10.244.1.5:8080" for real-server findings, else null. */
  readonly realServer: string | null;
  /** What kube-proxy should have programmed, as text (null when nothing). */
  readonly expected: string | null;
  /** What the table holds, as text (null when nothing). */
  readonly actual: string | null;
  /** One line of evidence, e.g. "missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80". */
  readonly message: string;
}

export interface ServicePortResult {
  /** null for the "(no Service)" group of unexpected virtual servers. */
  readonly service: ServiceRef | null;
  /** "namespace/name portName", "namespace/name" for an unnamed port, or "(no Service)". */
  readonly label: string;
  /** Expected virtual servers of this Service port (0 for "(no Service)"). */
  readonly virtualServers: number;
  readonly ok: boolean;
  readonly findings: readonly IpvsFinding[];
}

export interface IpvsDiff {
  /** No failures (warnings allowed). */
  readonly ok: boolean;
  readonly failures: number;
  readonly warnings: number;
  /** One entry per expected Service port (in expected order), then "(no Service)" when needed. */
  readonly services: readonly ServicePortResult[];
  readonly counts: {
    readonly expectedVirtualServers: number;
    readonly actualVirtualServers: number;
    readonly matchedVirtualServers: number;
    /** Actual virtual servers not judged: the probe, excluded CIDRs, other families. */
    readonly ignoredVirtualServers: number;
  };
  /** Things worth knowing that are not findings. */
  readonly notes: readonly string[];
}

export interface DiffOptions {
  /** kube-proxy's excludeCIDRs: virtual servers there that nobody expects are left alone. */
  readonly excludeCidrs: readonly string[];
}

export const NO_SERVICE_LABEL = '(no Service)';

/** Compares `actual` with `expected`. */
export function diffIpvsState(expected: ExpectedIpvsState, actual: IpvsTable, options: DiffOptions): IpvsDiff {
  const excludes = options.excludeCidrs.map(toCidr);
  const families = new Set(expected.families);
  const notes: string[] = [...expected.notes];
  // Columns this text form lacks hold placeholders, never data (IpvsTable.absent).
  const absent = new Set<IpvsColumn>(actual.absent ?? []);
  const skipped = COMPARED_COLUMNS.filter((column) => absent.has(column));
  if (skipped.length > 0) notes.push(`this ${actual.format} table does not show ${skipped.join(', ')}; those were not compared`);

  const actualByKey = new Map<string, IpvsService>();
  for (const service of actual.services) {
    const key = keyOfActual(service);
    if (actualByKey.has(key)) notes.push(`the table lists ${key} twice; only the last entry was compared`);
    actualByKey.set(key, service);
  }

  const groups = new Map<string, GroupBuilder>();
  const groupFor = (ref: ServiceRef | null): GroupBuilder => {
    const key = ref === null ? '\0none' : `${ref.namespace}/${ref.name}/${ref.portName}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { service: ref, label: ref === null ? NO_SERVICE_LABEL : describeRef(ref), virtualServers: 0, findings: [] }));
    return group;
  };

  const matched = new Set<string>();
  const jiffies: string[] = [];
  for (const vs of expected.virtualServers) {
    const group = groupFor(vs.service);
    group.virtualServers += 1;
    const key = virtualServerKey(vs);
    const service = actualByKey.get(key);
    if (service === undefined) {
      group.findings.push(missingVirtualServer(vs, key));
      continue;
    }
    matched.add(key);
    compareVirtualServer(vs, service, key, group.findings, jiffies, absent);
  }

  const probes: string[] = [];
  const excluded: string[] = [];
  const otherFamily = new Map<IpFamily, string[]>();
  const hostNames: string[] = [];
  for (const [key, service] of actualByKey) {
    if (matched.has(key)) continue;
    const address = service.address ?? (service.family === 4 ? '0.0.0.0' : '::');
    if (ipFamilyOf(address) === null) hostNames.push(key);
    if (address === PROBE_ADDRESS && service.port === PROBE_PORT) {
      probes.push(key);
    } else if (!families.has(service.family)) {
      const list = otherFamily.get(service.family) ?? [];
      list.push(key);
      otherFamily.set(service.family, list);
    } else if (isExcluded(excludes, address)) {
      excluded.push(key);
    } else {
      groupFor(null).findings.push(unexpectedVirtualServer(service, key));
    }
  }

  if (probes.length > 0) {
    notes.push(`${probes.join(', ')} is kube-proxy's start-up scheduler probe (normally deleted right after the probe); not a finding`);
  }
  if (excluded.length > 0) {
    notes.push(`${count(excluded.length, 'virtual server')} inside excludeCIDRs (${options.excludeCidrs.join(', ')}) left alone, as kube-proxy does: ${examples(excluded)}`);
  }
  for (const [family, keys] of otherFamily) {
    notes.push(
      `${count(keys.length, `IPv${family} virtual server`)} not checked: this check covers ${[...families].map((f) => `IPv${f}`).join(' and ') || 'no family'} only: ${examples(keys)}`,
    );
  }
  if (jiffies.length > 0) {
    notes.push(`persistence timeouts of ${count(jiffies.length, 'virtual server')} are in jiffies (HZ unknown), so they were not compared: ${examples(jiffies)}`);
  }
  if (hostNames.length > 0) {
    notes.push(`the table shows host names instead of addresses (${examples(hostNames)}); list it with ipvsadm -Ln so it can be compared`);
  }
  if (actual.unknown.length > 0) {
    notes.push(`the IPVS reader did not understand ${count(actual.unknown.length, 'line')}: ${examples(actual.unknown.map((l) => JSON.stringify(l)))}`);
  }

  const services = [...groups.values()]
    .sort((a, b) => Number(a.service === null) - Number(b.service === null))
    .map((g): ServicePortResult => ({ ...g, ok: !g.findings.some((f) => f.severity === 'failure') }));
  const all = services.flatMap((s) => s.findings);
  const failures = all.filter((f) => f.severity === 'failure').length;
  return {
    ok: failures === 0,
    failures,
    warnings: all.length - failures,
    services,
    counts: {
      expectedVirtualServers: expected.virtualServers.length,
      actualVirtualServers: actualByKey.size,
      matchedVirtualServers: matched.size,
      ignoredVirtualServers: probes.length + excluded.length + [...otherFamily.values()].reduce((n, keys) => n + keys.length, 0),
    },
    notes,
  };
}

interface GroupBuilder {
  readonly service: ServiceRef | null;
  readonly label: string;
  virtualServers: number;
  readonly findings: IpvsFinding[];
}

function keyOfActual(service: IpvsService): string {
  return virtualServerKey({ protocol: service.protocol, address: service.address === null ? null : canonicalAddress(service.address), port: service.port, fwmark: service.fwmark });
}

/** Up to this many real servers a virtual server's are matched by scanning, not through a Map (most Services have a few). */
const SCAN_LIMIT = 16;

function compareVirtualServer(
  vs: ExpectedVirtualServer,
  service: IpvsService,
  key: string,
  findings: IpvsFinding[],
  jiffies: string[],
  absent: ReadonlySet<IpvsColumn>,
): void {
  if (!absent.has('scheduler') && service.scheduler !== vs.scheduler) {
    findings.push(finding('scheduler-mismatch', key, null, vs.scheduler, service.scheduler, `scheduler ${service.scheduler} on ${key}, expected ${vs.scheduler}`));
  }
  if (!absent.has('persistence')) comparePersistence(vs, service, key, findings, jiffies);

  // The table's real servers by address:port; a key listed twice counts once, with its last entry.
  const keys = service.destinations.map((destination) => hostPort(canonicalAddress(destination.address), destination.port));
  // (A Map made from pairs keeps the last index of a repeated key.)
  const index = keys.length > SCAN_LIMIT ? new Map(keys.map((k, i) => [k, i])) : null;
  const lastIndexOf = (rsKey: string): number => (index === null ? keys.lastIndexOf(rsKey) : (index.get(rsKey) ?? -1));
  const seen = new Uint8Array(keys.length);
  for (const rs of vs.realServers) {
    const rsKey = hostPort(rs.address, rs.port);
    const at = lastIndexOf(rsKey);
    const destination = service.destinations[at];
    if (destination === undefined) {
      findings.push(finding('missing-real-server', key, rsKey, `weight ${rs.weight}`, null, `missing real server ${rsKey} on ${key}`));
      continue;
    }
    seen[at] = 1;
    if (!absent.has('weight') && destination.weight !== rs.weight) {
      findings.push(
        finding('weight-mismatch', key, rsKey, String(rs.weight), String(destination.weight), `real server ${rsKey} has weight ${destination.weight} on ${key}, expected ${rs.weight}`),
      );
    }
    if (!absent.has('forward') && !ACCEPTED_FORWARDS.has(destination.forward)) {
      findings.push(
        finding('forward-mismatch', key, rsKey, 'Masq', destination.forward, `real server ${rsKey} forwards by ${destination.forward} on ${key}, expected Masq`),
      );
    }
  }
  for (let i = 0; i < keys.length; i++) {
    const rsKey = keys[i] as string;
    // Each key once, where it first appears, judged by its last entry (marked once handled).
    const at = lastIndexOf(rsKey);
    if (seen[at] === 1) continue;
    seen[at] = 1;
    const destination = service.destinations[at] as IpvsDestination;
    const evidence = absent.has('weight') ? `weight not shown${connections(destination)}` : `weight ${destination.weight}${connections(destination)}`;
    if (!absent.has('weight') && destination.weight === 0) {
      // Graceful termination keeps removed TCP destinations at weight 0 until their connections end.
      findings.push({ ...finding('draining-real-server', key, rsKey, null, evidence, `draining real server ${rsKey} (${evidence}) on ${key}`), severity: 'warning' });
    } else {
      findings.push(finding('unexpected-real-server', key, rsKey, null, evidence, `unexpected real server ${rsKey} (${evidence}) on ${key}`));
    }
  }
}

function comparePersistence(vs: ExpectedVirtualServer, service: IpvsService, key: string, findings: IpvsFinding[], jiffies: string[]): void {
  const want = vs.persistent;
  const have = service.persistent;
  if (want === null && have === null) return;
  if (want === null && have !== null) {
    const text = have.unit === 'seconds' && have.timeout !== null ? `persistent ${have.timeout}` : 'persistent';
    findings.push(finding('persistence-mismatch', key, null, 'not persistent', text, `${key} is ${text}, expected not persistent (no ClientIP affinity)`));
    return;
  }
  if (want !== null && have === null) {
    findings.push(
      finding('persistence-mismatch', key, null, `persistent ${want.timeout}`, 'not persistent', `${key} is not persistent, expected persistent ${want.timeout} (ClientIP affinity)`),
    );
    return;
  }
  if (want === null || have === null) return;
  if (have.unit !== 'seconds' || have.timeout === null) {
    jiffies.push(key);
    return;
  }
  if (have.timeout !== want.timeout) {
    findings.push(
      finding('persistence-mismatch', key, null, `persistent ${want.timeout}`, `persistent ${have.timeout}`, `${key} is persistent ${have.timeout}, expected persistent ${want.timeout}`),
    );
  }
}

function missingVirtualServer(vs: ExpectedVirtualServer, key: string): IpvsFinding {
  const expected = `${vs.scheduler}${vs.persistent === null ? '' : ` persistent ${vs.persistent.timeout}`}, ${count(vs.realServers.length, 'real server')}`;
  return finding('missing-virtual-server', key, null, expected, null, `missing virtual server ${key} (${vs.kind}; ${expected})`);
}

function unexpectedVirtualServer(service: IpvsService, key: string): IpvsFinding {
  const actual = `${service.scheduler}, ${count(service.destinations.length, 'real server')}`;
  return finding('unexpected-virtual-server', key, null, null, actual, `unexpected virtual server ${key} (${actual})`);
}

function finding(kind: FindingKind, virtualServer: string, realServer: string | null, expected: string | null, actual: string | null, message: string): IpvsFinding {
  return { kind, severity: 'failure', virtualServer, realServer, expected, actual, message };
}

function connections(destination: IpvsDestination): string {
  if (destination.activeConns === null || destination.inactiveConns === null) return '';
  return `, ${destination.activeConns} active/${destination.inactiveConns} inactive connections`;
}

function isExcluded(excludes: readonly Cidr[], address: string): boolean {
  return excludes.some((cidr) => cidrContains(cidr, address));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function examples(items: readonly string[]): string {
  const shown = items.slice(0, NOTE_EXAMPLES).join(', ');
  return items.length > NOTE_EXAMPLES ? `${shown} and ${items.length - NOTE_EXAMPLES} more` : shown;
}

// ---- the pure core of `local-up assert` --------------------------------------

export interface NodeCheckInput {
  readonly cluster: ClusterState;
  readonly table: IpvsTable;
  readonly node: Omit<ExpectNode, 'family'>;
  /** Families kube-proxy runs on this node (both on dual-stack). */
  readonly families: readonly IpFamily[];
  readonly excludeCidrs: readonly string[];
}

export interface NodeCheck {
  readonly node: string;
  readonly families: readonly IpFamily[];
  readonly expected: ExpectedIpvsState;
  readonly diff: IpvsDiff;
}

/** Expected state for the node, then the diff against its table. Offline and live modes both end here. */
export function checkNodeIpvs(input: NodeCheckInput): NodeCheck {
  const expected = expectIpvsStateForFamilies(input.cluster, input.node, input.families);
  return { node: input.node.name, families: input.families, expected, diff: diffIpvsState(expected, input.table, { excludeCidrs: input.excludeCidrs }) };
}
