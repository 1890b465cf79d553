// Judges what the oracle VM printed (hack/oracle/guest.sh): per case, the
// table real kube-proxy programmed must equal what `ipvs expect` predicts from
// the same cluster dump (virtual servers, schedulers, persistence, real servers,
// weights, kube-ipvs0 addresses), and the table altered by hand (a real server
// deleted, a scheduler changed) must fail with exactly those findings. Pure.
import type { IpvsFinding, NodeCheck } from '../ipvs/diff.js';
import { checkNodeIpvs } from '../ipvs/diff.js';
import type { IpvsProtocol } from '../ipvs/model.js';
import { virtualServerKey } from '../ipvs/model.js';
import { readIpvsText } from '../ipvs/read.js';
import { compareAddresses } from '../kube/ip.js';
import { readClusterValue } from '../kube/read.js';
import type { ClusterState } from '../kube/types.js';
import { ORACLE_NODE } from './cases.js';

/** The scheduler our generated KubeProxyConfiguration sets (ipvs.scheduler). */
export const ORACLE_SCHEDULER = 'rr';

export interface GuestCaseOutput {
  /** "oracle-01-clusterip-tcp". */
  readonly name: string;
  /** Seconds from the first create request to kube-proxy's sync. */
  readonly syncSeconds: number;
  /** The two API lists joined as `kubectl get services,endpointslices -A -o json` prints them. */
  readonly clusterDump: Record<string, unknown>;
  readonly ipvs: string;
  readonly addresses: string;
  /** ipvsadm -Sn words of the real server deleted ("-t VIP:PORT -r RIP:PORT"), or null when the table had none. */
  readonly removed: string | null;
  /** The ipvsadm -Sn line of the virtual server whose scheduler was changed to wrr, or null. */
  readonly edited: string | null;
  readonly ipvsAltered: string;
}

export interface GuestOutput {
  readonly version: string;
  readonly hz: number;
  readonly cases: readonly GuestCaseOutput[];
  readonly proxyLog: string;
  /** The guest reached its end marker. */
  readonly complete: boolean;
}

/** Splits the guest's stdout at "@@oracle NAME" lines. */
export function readGuestOutput(stdout: string): GuestOutput {
  const parts: { name: string; text: string }[] = [];
  for (const chunk of stdout.split(/^@@oracle /m).slice(1)) {
    const newline = chunk.indexOf('\n');
    parts.push({ name: newline === -1 ? chunk : chunk.slice(0, newline), text: newline === -1 ? '' : chunk.slice(newline + 1) });
  }
  const single = (name: string) => parts.find((p) => p.name === name)?.text.trim() ?? '';
  const cases: GuestCaseOutput[] = [];
  for (let i = 0; i < parts.length; i++) {
    const head = parts[i];
    if (head === undefined || !head.name.startsWith('case ')) continue;
    const own = new Map<string, string>();
    for (let j = i + 1; j < parts.length; j++) {
      const part = parts[j];
      if (part === undefined || part.name.startsWith('case ') || part.name === 'proxy-log' || part.name === 'end') break;
      own.set(part.name, part.text);
    }
    const text = (name: string): string => {
      const found = own.get(name);
      if (found === undefined) throw new Error(`oracle: case ${head.name.slice(5)} printed no ${name} section`);
      return found;
    };
    const altered = text('altered');
    const removed = /^removed (.*)$/m.exec(altered)?.[1]?.trim() ?? '';
    const edited = /^edited (.*)$/m.exec(altered)?.[1]?.trim() ?? '';
    const services = JSON.parse(text('services')) as { items?: unknown[] };
    const slices = JSON.parse(text('endpointslices')) as { items?: unknown[] };
    cases.push({
      name: head.name.slice(5),
      syncSeconds: Number(head.text.trim()),
      clusterDump: {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          ...(services.items ?? []).map((item) => ({ apiVersion: 'v1', kind: 'Service', ...(item as object) })),
          ...(slices.items ?? []).map((item) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ...(item as object) })),
        ],
      },
      ipvs: text('ipvs'),
      addresses: text('addresses'),
      removed: removed === '' ? null : removed,
      edited: edited === '' ? null : edited,
      ipvsAltered: text('ipvs-altered'),
    });
  }
  return {
    version: single('version'),
    hz: Number(single('hz')) || 250,
    cases,
    proxyLog: single('proxy-log'),
    complete: parts.some((p) => p.name === 'end'),
  };
}

/** `ip -o addr show` lines: IPv4 addresses per interface. */
export function readInterfaceAddresses(text: string): Map<string, string[]> {
  const byInterface = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^\d+:\s+(\S+)\s+inet\s+([0-9.]+)\//.exec(line);
    if (match === null) continue;
    const [, name, address] = match as unknown as [string, string, string];
    byInterface.set(name, [...(byInterface.get(name) ?? []), address]);
  }
  return byInterface;
}

export interface CaseVerdict {
  readonly name: string;
  readonly cluster: ClusterState;
  /** Our model against kube-proxy's table. */
  readonly check: NodeCheck;
  readonly kubeIpvs0: { readonly expected: readonly string[]; readonly actual: readonly string[] };
  /** Our model against the hand-altered table. */
  readonly altered: NodeCheck;
  /** The findings the alteration must produce, as "kind virtualServer realServer". */
  readonly alteredWanted: readonly string[];
  readonly alteredFound: readonly string[];
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
export function wantedAlterationFindings(removed: string | null, edited: string | null): string[] {
  const wanted: string[] = [];
  if (removed !== null) {
    const words = removed.split(/\s+/);
    wanted.push(`missing-real-server ${saveKey(words[0], words[1])} ${words[3] ?? '?'}`);
  }
  if (edited !== null) {
    const words = edited.split(/\s+/);
    wanted.push(`scheduler-mismatch ${saveKey(words[1], words[2])}`);
  }
  return wanted.sort();
}

/** Our model and diff against what real kube-proxy did for one case. */
export function judgeCase(output: GuestCaseOutput, hz: number): CaseVerdict {
  const cluster = readClusterValue(output.clusterDump);
  const interfaces = readInterfaceAddresses(output.addresses);
  const nodeAddresses = [...interfaces.entries()].filter(([name]) => name !== 'kube-ipvs0').flatMap(([, addresses]) => addresses);
  const node = { name: ORACLE_NODE.name, addresses: nodeAddresses, nodePortAddresses: [], scheduler: ORACLE_SCHEDULER };
  const check = checkNodeIpvs({ cluster, table: readIpvsText(output.ipvs, { hz, format: 'proc' }), node, families: [4], excludeCidrs: [] });
  const altered = checkNodeIpvs({ cluster, table: readIpvsText(output.ipvsAltered, { hz, format: 'proc' }), node, families: [4], excludeCidrs: [] });
  const problems: string[] = [];
  for (const f of check.diff.services.flatMap((s) => s.findings)) problems.push(`model differs from kube-proxy: ${f.message}`);
  const actualKubeIpvs0 = [...(interfaces.get('kube-ipvs0') ?? [])].sort(compareAddresses);
  const expectedKubeIpvs0 = [...check.expected.kubeIpvs0Addresses];
  if (actualKubeIpvs0.join(',') !== expectedKubeIpvs0.join(',')) {
    problems.push(`kube-ipvs0 holds ${actualKubeIpvs0.join(', ') || 'nothing'}, the model expects ${expectedKubeIpvs0.join(', ') || 'nothing'}`);
  }
  const alteredWanted = wantedAlterationFindings(output.removed, output.edited);
  const alteredFound = altered.diff.services.flatMap((s) => s.findings).map(findingLine).sort();
  if (alteredWanted.length === 0) problems.push('the table had nothing to alter');
  if (alteredFound.join('\n') !== alteredWanted.join('\n')) {
    problems.push(`the altered table gave [${alteredFound.join('; ')}], wanted exactly [${alteredWanted.join('; ')}]`);
  }
  return { name: output.name, cluster, check, kubeIpvs0: { expected: expectedKubeIpvs0, actual: actualKubeIpvs0 }, altered, alteredWanted, alteredFound, problems };
}
