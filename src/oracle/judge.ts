// Judges what the oracle VM printed (hack/oracle/guest.sh): per case, the
// table real kube-proxy programmed must equal what `ipvs expect` predicts from
// the same cluster dump (virtual servers, schedulers, persistence, real servers,
// weights, kube-ipvs0 addresses), and the table altered by hand (a real server
// deleted, a scheduler changed) must fail with exactly those findings. Pure.
import type { KubeVersion } from '../config/kube-version.js';
import { parseKubeVersion } from '../config/kube-version.js';
import type { IpvsFinding, NodeCheck } from '../ipvs/diff.js';
import { checkNodeIpvs } from '../ipvs/diff.js';
import type { IpvsProtocol } from '../ipvs/model.js';
import { virtualServerKey } from '../ipvs/model.js';
import { parseIpAddrOneline } from '../ipvs/live.js';
import { readIpvsText } from '../ipvs/read.js';
import { compareAddresses } from '../kube/ip.js';
import { readClusterValue } from '../kube/read.js';
import type { ClusterState } from '../kube/types.js';
import { ORACLE_NODE } from './cases.js';

/** The scheduler our generated KubeProxyConfiguration sets (ipvs.scheduler). */
export const ORACLE_SCHEDULER = 'rr';

/** The guest's alteration of one case's virtual servers. */
export interface GuestAlteration {
  /** ipvsadm -Sn words of the real server deleted ("-t VIP:PORT -r RIP:PORT"), or null when the case had none. */
  readonly removed: string | null;
  /** The ipvsadm -Sn line of the virtual server whose scheduler was changed to wrr, or null. */
  readonly edited: string | null;
}

export interface GuestOutput {
  readonly version: string;
  readonly hz: number;
  /** Seconds from the first create request to the end of kube-proxy's sync. */
  readonly syncSeconds: number;
  /** The two API lists joined as `kubectl get services,endpointslices -A -o json` prints them. */
  readonly clusterDump: Record<string, unknown>;
  readonly ipvs: string;
  readonly addresses: string;
  /** By guest case name ("oracle-01-clusterip-tcp"). */
  readonly alterations: ReadonlyMap<string, GuestAlteration>;
  readonly ipvsAltered: string;
  /** Cases the API server refused (only cases marked mayBeRejected), by guest case name: the request and the server's answer. */
  readonly rejected: ReadonlyMap<string, string>;
  readonly proxyLog: string;
  /** The second state (the cases' "then" changes, after kube-proxy synced them), or null when no case has one. */
  readonly then: GuestState | null;
  /** The nodePortAddresses groups' runs (each its own kube-proxy configuration and cases), by group id. */
  readonly groups: ReadonlyMap<number, GuestRun>;
  /** The guest reached its end marker. */
  readonly complete: boolean;
}

/** One kube-proxy configuration's run: its state and its altered table. */
export type GuestRun = Pick<GuestOutput, 'syncSeconds' | 'clusterDump' | 'ipvs' | 'addresses' | 'alterations' | 'ipvsAltered' | 'rejected' | 'version' | 'hz'>;

/** One snapshot of the cluster and the node. */
export interface GuestState {
  readonly clusterDump: Record<string, unknown>;
  readonly ipvs: string;
  readonly addresses: string;
}

/** Splits the guest's stdout at "@@oracle NAME" lines. */
export function readGuestOutput(stdout: string): GuestOutput {
  const sections = new Map<string, string>();
  for (const chunk of stdout.split(/^@@oracle /m).slice(1)) {
    const newline = chunk.indexOf('\n');
    sections.set(newline === -1 ? chunk : chunk.slice(0, newline), newline === -1 ? '' : chunk.slice(newline + 1));
  }
  const text = (name: string): string => sections.get(name) ?? '';
  const list = (name: string): unknown[] => {
    const raw = text(name).trim();
    if (raw === '') return [];
    const items = (JSON.parse(raw) as { items?: unknown[] }).items;
    return Array.isArray(items) ? items : [];
  };
  const dump = (prefix: string): Record<string, unknown> => ({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      ...list(`${prefix}services`).map((item) => ({ apiVersion: 'v1', kind: 'Service', ...(item as object) })),
      ...list(`${prefix}endpointslices`).map((item) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...(item as object) })),
    ],
  });
  const alterationsOf = (prefix: string): Map<string, GuestAlteration> => {
    const alterations = new Map<string, { removed: string | null; edited: string | null }>();
    for (const line of text(`${prefix}altered`).split('\n')) {
      const match = /^(removed|edited) (\S+) ?(.*)$/.exec(line);
      if (match === null) continue;
      const [, what, name, words] = match as unknown as [string, 'removed' | 'edited', string, string];
      const entry = alterations.get(name) ?? { removed: null, edited: null };
      entry[what] = words.trim() === '' ? null : words.trim();
      alterations.set(name, entry);
    }
    return alterations;
  };
  const rejectedOf = (prefix: string): Map<string, string> => {
    const rejected = new Map<string, string>();
    for (const line of text(`${prefix}rejected`).split('\n')) {
      const match = /^(\S+) (.*)$/.exec(line.trim());
      if (match !== null) rejected.set(match[1] as string, match[2] as string);
    }
    return rejected;
  };
  const version = text('version').trim();
  const hz = Number(text('hz').trim()) || 250;
  const runOf = (prefix: string): GuestRun => ({
    version,
    hz,
    syncSeconds: Number(text(`${prefix}snapshot`).trim()),
    clusterDump: dump(prefix),
    ipvs: text(`${prefix}ipvs`),
    addresses: text(`${prefix}addresses`),
    alterations: alterationsOf(prefix),
    ipvsAltered: text(`${prefix}ipvs-altered`),
    rejected: rejectedOf(prefix),
  });
  const groups = new Map<number, GuestRun>();
  for (const name of sections.keys()) {
    const match = /^group-(\d+)-ipvs$/.exec(name);
    if (match !== null) groups.set(Number(match[1]), runOf(`group-${match[1]}-`));
  }
  return {
    ...runOf(''),
    proxyLog: text('proxy-log').trim(),
    then: sections.has('then-ipvs') ? { clusterDump: dump('then-'), ipvs: text('then-ipvs'), addresses: text('then-addresses') } : null,
    groups,
    complete: sections.has('end'),
  };
}

/** `ip -o addr show` lines: IPv4 and IPv6 addresses (canonical) per interface. */
export function readInterfaceAddresses(text: string): Map<string, string[]> {
  const byInterface = new Map<string, string[]>();
  for (const { ifname, address } of parseIpAddrOneline(text)) byInterface.set(ifname, [...(byInterface.get(ifname) ?? []), address]);
  return byInterface;
}

/** The release `kube-proxy --version` printed ("Kubernetes v1.34.11"), or null when it cannot be read. */
export function kubeProxyRelease(versionLine: string): KubeVersion | null {
  const match = /v(\d+\.\d+(?:\.\d+)?)/.exec(versionLine);
  return match === null ? null : parseKubeVersion(match[1] as string);
}

export interface OracleVerdict {
  readonly cluster: ClusterState;
  /** Our model against kube-proxy's table. */
  readonly check: NodeCheck;
  /** Our model against the hand-altered table. */
  readonly altered: NodeCheck;
  readonly kubeIpvs0: { readonly expected: readonly string[]; readonly actual: readonly string[] };
  /** Problems no single case owns: virtual servers of no Service, kube-ipvs0 addresses. */
  readonly problems: readonly string[];
}

export interface CaseVerdict {
  /** Virtual servers the model expects for the case's Services. */
  readonly virtualServers: number;
  readonly alteredWanted: readonly string[];
  readonly alteredFound: readonly string[];
  /** The API server's refusal when it refused the case (allowed only for cases marked mayBeRejected); null when it took it. */
  readonly rejected: string | null;
  /** Every way the case failed; empty when it passed. */
  readonly problems: readonly string[];
}

/** A finding as one comparable line. */
export function findingLine(f: Pick<IpvsFinding, 'kind' | 'virtualServer' | 'realServer'>): string {
  return `${f.kind} ${f.virtualServer}${f.realServer === null ? '' : ` ${f.realServer}`}`;
}

const SAVE_PROTOCOLS: Record<string, IpvsProtocol> = { '-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP' };

/** "TCP/10.96.0.10:80" from ipvsadm -Sn words "-t 10.96.0.10:80". */
function saveKey(flag: string | undefined, hostPortText: string | undefined): string {
  const protocol = flag === undefined ? undefined : SAVE_PROTOCOLS[flag];
  const match = /^(.*):(\d+)$/.exec(hostPortText ?? '');
  if (protocol === undefined || match === null) throw new Error(`oracle: cannot read the ipvsadm words ${flag} ${hostPortText}`);
  return virtualServerKey({ protocol, address: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) });
}

/** The findings a correct check reports for the guest's alteration. */
export function wantedAlterationFindings(alteration: GuestAlteration): string[] {
  const wanted: string[] = [];
  if (alteration.removed !== null) {
    const words = alteration.removed.split(/\s+/);
    wanted.push(`missing-real-server ${saveKey(words[0], words[1])} ${words[3] ?? '?'}`);
  }
  if (alteration.edited !== null) {
    const words = alteration.edited.split(/\s+/);
    wanted.push(`scheduler-mismatch ${saveKey(words[1], words[2])}`);
  }
  return wanted.sort();
}

/** Both families: the guest's kube-proxy runs one proxier per family. */
const ORACLE_FAMILIES = [4, 6] as const;

/**
 * Our model and diff against the whole table real kube-proxy programmed, with the kube-proxy
 * configuration's nodePortAddresses of that run (none for the default configuration).
 */
export function judgeOracleRun(output: GuestRun, nodePortAddresses: readonly string[] = []): OracleVerdict {
  const cluster = readClusterValue(output.clusterDump);
  const interfaces = readInterfaceAddresses(output.addresses);
  const nodeAddresses = [...interfaces.entries()].filter(([name]) => name !== 'kube-ipvs0').flatMap(([, addresses]) => addresses);
  // The model is asked about the release that ran (its --k8s-version), on the guest's node and zone.
  const kubeVersion = kubeProxyRelease(output.version);
  const node = {
    name: ORACLE_NODE.name,
    zone: ORACLE_NODE.zone,
    addresses: nodeAddresses,
    nodePortAddresses,
    primaryAddresses: ORACLE_NODE.internalIPs,
    scheduler: ORACLE_SCHEDULER,
    ...(kubeVersion === null ? {} : { kubeVersion }),
  };
  const check = checkNodeIpvs({ cluster, table: readIpvsText(output.ipvs, { hz: output.hz, format: 'proc' }), node, families: ORACLE_FAMILIES, excludeCidrs: [] });
  const altered = checkNodeIpvs({ cluster, table: readIpvsText(output.ipvsAltered, { hz: output.hz, format: 'proc' }), node, families: ORACLE_FAMILIES, excludeCidrs: [] });
  const problems: string[] = [];
  for (const result of check.diff.services) {
    if (result.service === null) for (const f of result.findings) problems.push(`kube-proxy programmed what the model does not expect: ${f.message}`);
  }
  const actual = [...(interfaces.get('kube-ipvs0') ?? [])].sort(compareAddresses);
  const expected = [...check.expected.kubeIpvs0Addresses];
  if (actual.join(',') !== expected.join(',')) {
    problems.push(`kube-ipvs0 holds ${actual.join(', ') || 'nothing'}, the model expects ${expected.join(', ') || 'nothing'}`);
  }
  return { cluster, check, altered, kubeIpvs0: { expected, actual }, problems };
}

/** One case: the model's findings on its Services (none allowed), and exactly its alteration's findings. */
export function judgeCase(run: OracleVerdict, output: Pick<GuestRun, 'rejected' | 'alterations'>, guestName: string, services: readonly { namespace: string; name: string }[]): CaseVerdict {
  const rejected = output.rejected.get(guestName) ?? null;
  if (rejected !== null) return { virtualServers: 0, alteredWanted: [], alteredFound: [], rejected, problems: [] };
  const owns = (ref: { namespace: string; name: string } | null) => ref !== null && services.some((s) => s.namespace === ref.namespace && s.name === ref.name);
  const problems: string[] = [];
  const mine = run.check.diff.services.filter((r) => owns(r.service));
  for (const f of mine.flatMap((r) => r.findings)) problems.push(`model differs from kube-proxy: ${f.message}`);
  const virtualServers = run.check.expected.virtualServers.filter((vs) => owns(vs.service)).length;
  const alteredWanted = wantedAlterationFindings(output.alterations.get(guestName) ?? { removed: null, edited: null });
  const alteredFound = run.altered.diff.services
    .filter((r) => owns(r.service))
    .flatMap((r) => r.findings)
    .map(findingLine)
    .sort();
  if (virtualServers > 0 && alteredWanted.length === 0) problems.push('the guest altered none of the case\'s virtual servers');
  if (alteredFound.join('\n') !== alteredWanted.join('\n')) {
    problems.push(`the altered table gave [${alteredFound.join('; ')}], wanted exactly [${alteredWanted.join('; ')}]`);
  }
  return { virtualServers, alteredWanted, alteredFound, rejected: null, problems };
}

/** The second state judged like the first (no alteration): null when the guest printed none. */
export function judgeThenRun(output: GuestOutput): OracleVerdict | null {
  if (output.then === null) return null;
  return judgeOracleRun({ ...output, ...output.then, ipvsAltered: output.then.ipvs, alterations: new Map(), rejected: new Map() });
}

/**
 * One case in the second state: the model's findings on its Services (which may be gone), and any
 * virtual server or kube-ipvs0 address kube-proxy kept for it that the model no longer expects
 * (problems of the whole table that name one of `marks`, e.g. "10.96.50.10:" for each of its ClusterIPs).
 */
export function judgeThenCase(run: OracleVerdict, services: readonly { namespace: string; name: string }[], marks: readonly string[]): { virtualServers: number; problems: string[] } {
  const owns = (ref: { namespace: string; name: string } | null) => ref !== null && services.some((s) => s.namespace === ref.namespace && s.name === ref.name);
  const problems = run.check.diff.services
    .filter((r) => owns(r.service))
    .flatMap((r) => r.findings)
    .map((f) => `after the change, model differs from kube-proxy: ${f.message}`);
  for (const problem of run.problems) {
    if (problem.startsWith('kube-proxy programmed') && marks.some((mark) => problem.includes(mark))) problems.push(`after the change: ${problem}`);
  }
  return { virtualServers: run.check.expected.virtualServers.filter((vs) => owns(vs.service)).length, problems };
}
