// After `kube-proxy --cleanup`: is anything kube-proxy programs still on this
// host? Reads the IPVS table, the kube-ipvs0 dummy device, ipsets, iptables
// (every backend found) and nftables, and names each leftover precisely.
// Reading goes through a Host (this machine, or the lab VM); judging is pure.
//
// What `kube-proxy --cleanup` removes (pkg/proxy/ipvs/cleanup.go cleanupLeftovers, and the
// iptables/nftables proxiers' own CleanupLeftovers, all run by --cleanup):
//   - IPVS: ipvs.Flush(), i.e. EVERY virtual server on the host, not only kube-proxy's;
//   - the kube-ipvs0 dummy device (DeleteDummyDevice);
//   - iptables: the jump rules of iptablesJumpChain (nat PREROUTING/OUTPUT -> KUBE-SERVICES,
//     nat POSTROUTING -> KUBE-POSTROUTING, filter FORWARD -> KUBE-FORWARD, filter INPUT ->
//     KUBE-NODE-PORT / KUBE-PROXY-FIREWALL / KUBE-IPVS-FILTER, filter FORWARD ->
//     KUBE-PROXY-FIREWALL, filter OUTPUT -> KUBE-IPVS-OUT-FILTER), then flushes and deletes the
//     chains of iptablesCleanupChains (nat KUBE-SERVICES, KUBE-POSTROUTING, KUBE-NODE-PORT,
//     KUBE-LOAD-BALANCER, KUBE-MARK-MASQ; filter KUBE-FORWARD, KUBE-NODE-PORT,
//     KUBE-PROXY-FIREWALL, KUBE-SOURCE-RANGES-FIREWALL, KUBE-IPVS-FILTER, KUBE-IPVS-OUT-FILTER),
//     for IPv4 and IPv6;
//   - then destroys every set of ipsetInfo (KUBE-LOOP-BACK, KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP,
//     KUBE-EXTERNAL-IP-LOCAL, KUBE-LOAD-BALANCER*, KUBE-NODE-PORT-*, KUBE-HEALTH-CHECK-NODE-PORT,
//     KUBE-IPVS-IPS), after iptables, because a set still referenced by a rule cannot go.
// The iptables proxier's cleanup (pkg/proxy/iptables/cleanup.go) also removes KUBE-SERVICES,
// KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-EXTERNAL-SERVICES, KUBE-FORWARD,
// KUBE-PROXY-FIREWALL, the KUBE-SVC-*/KUBE-SEP-* chains and KUBE-PROXY-CANARY (nat, filter, mangle),
// and the nftables proxier deletes its "kube-proxy" tables. The chains the kubelet creates
// (KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY, KUBE-FIREWALL, which the iptables proxier duplicates "but does not delete")
// survive --cleanup; they are reported apart.
import type { Host } from '../../exec/host.js';
import { tail } from '../../exec/runner.js';
import { PROBE_ADDRESS, PROBE_PORT } from '../../ipvs/diff.js';
import { KUBE_IPVS0, PROC_IP_VS, parseIpAddrOneline } from '../../ipvs/live.js';
import { hostPort, virtualServerKey } from '../../ipvs/model.js';
import { readProcIpvs } from '../../ipvs/read-proc.js';
import { cidrContains, toCidr } from '../../kube/ip.js';

const READ_TIMEOUT_MS = 30_000;
/** The Service NodePort range kube-apiserver allocates from by default (--service-node-port-range). */
const NODE_PORT_RANGE = [30000, 32767] as const;
/**
 * Chains the kubelet (not kube-proxy) keeps in iptables: KUBE-IPTABLES-HINT (mangle, so that other
 * components can tell iptables-legacy from iptables-nft), KUBE-FIREWALL and KUBE-KUBELET-CANARY
 * (pkg/kubelet/kubelet_network_linux.go, syncIPTablesRules and KubeIPTablesHintChain, 1.34).
 */
export const KUBELET_CHAINS = new Set(['KUBE-KUBELET-CANARY', 'KUBE-FIREWALL', 'KUBE-IPTABLES-HINT']);

export const IPTABLES_SAVE_COMMANDS = ['iptables-nft-save', 'ip6tables-nft-save', 'iptables-legacy-save', 'ip6tables-legacy-save'] as const;
const IPTABLES_SAVE_FALLBACK = ['iptables-save', 'ip6tables-save'] as const;

export interface CommandReading {
  readonly command: string;
  /** The output, or null when the command failed (see error) or does not exist (missing). */
  readonly text: string | null;
  readonly error?: string;
  readonly missing?: boolean;
}

export interface HostNetworkState {
  /** /proc/net/ip_vs, or null when it does not exist (ip_vs not loaded: no virtual servers). */
  readonly procIpVs: string | null;
  readonly kubeIpvs0: { readonly present: boolean; readonly addresses: readonly string[] };
  readonly ipsetNames: CommandReading;
  readonly iptablesSaves: readonly CommandReading[];
  readonly nftTables: CommandReading;
}

export type LeftoverKind = 'ipvs-virtual-server' | 'dummy-device' | 'ipset' | 'iptables-chain' | 'iptables-rule' | 'nft-table';

export interface Leftover {
  readonly kind: LeftoverKind;
  /** "TCP/10.96.0.1:443", "kube-ipvs0", "KUBE-CLUSTER-IP", "nat KUBE-SERVICES (iptables-nft-save)". */
  readonly name: string;
  readonly detail: string;
  /** Who creates it: kube-proxy's leftovers fail the check; the kubelet's are reported apart. */
  readonly owner: 'kube-proxy' | 'kubelet';
}

export interface LeftoverReport {
  /** No kube-proxy state remains (what could be read). */
  readonly clean: boolean;
  readonly leftovers: readonly Leftover[];
  /** IPVS virtual servers that do not look like kube-proxy's (outside the service range, etc.). */
  readonly otherVirtualServers: readonly string[];
  /** What could not be read, so "clean" only covers the rest. */
  readonly unreadable: readonly string[];
}

export interface LeftoverContext {
  readonly serviceCidr: string;
  /** Addresses seen on kube-ipvs0 before cleanup (virtual servers on them are kube-proxy's). */
  readonly kubeIpvs0Addresses?: readonly string[];
}

interface SavedTable {
  readonly table: string;
  readonly chains: string[];
  readonly rules: { chain: string; rule: string }[];
}

/** iptables-save text → tables with their chain names and rules. */
export function parseIptablesSave(text: string): SavedTable[] {
  const tables: SavedTable[] = [];
  let current: SavedTable | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      current = { table: line.slice(1), chains: [], rules: [] };
      tables.push(current);
    } else if (current !== null && line.startsWith(':')) {
      current.chains.push(line.slice(1).split(/\s+/)[0] ?? '');
    } else if (current !== null && line.startsWith('-A ')) {
      const chain = line.slice(3).split(/\s+/)[0] ?? '';
      current.rules.push({ chain, rule: line });
    }
  }
  return tables;
}

/** `ipset list -n`: one set name per line. */
export const parseIpsetNames = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** `nft list tables`: "table ip kube-proxy" → "ip kube-proxy". */
export const parseNftTables = (text: string): string[] =>
  text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('table ')).map((l) => l.slice('table '.length));

/** Judges a reading of the host. Pure. */
export function findLeftovers(state: HostNetworkState, context: LeftoverContext): LeftoverReport {
  const leftovers: Leftover[] = [];
  const otherVirtualServers: string[] = [];
  const unreadable: string[] = [];
  const service = toCidr(context.serviceCidr);
  const ipvs0 = new Set([...(context.kubeIpvs0Addresses ?? []), ...state.kubeIpvs0.addresses]);

  if (state.procIpVs !== null) {
    try {
      const table = readProcIpvs(state.procIpVs);
      for (const vs of table.services) {
        const key = virtualServerKey(vs);
        const address = vs.address ?? '';
        const port = vs.port ?? 0;
        const reals = vs.destinations.map((d) => hostPort(d.address, d.port));
        const why =
          address !== '' && cidrContains(service, address) ? `in the service range ${context.serviceCidr}`
          : ipvs0.has(address) ? `on a ${KUBE_IPVS0} address`
          : address === PROBE_ADDRESS && port === PROBE_PORT ? "kube-proxy's start-up probe (TEST-NET-2)"
          : port >= NODE_PORT_RANGE[0] && port <= NODE_PORT_RANGE[1] ? `in the NodePort range ${NODE_PORT_RANGE.join('-')}`
          : null;
        const detail = `${vs.scheduler ?? '?'}; ${reals.length === 0 ? 'no real servers' : `real servers ${reals.join(', ')}`}`;
        if (why === null) otherVirtualServers.push(`${key} (${detail})`);
        else leftovers.push({ kind: 'ipvs-virtual-server', name: key, detail: `${why}; ${detail}`, owner: 'kube-proxy' });
      }
    } catch (error) {
      unreadable.push(`${PROC_IP_VS}: ${(error as Error).message}`);
    }
  }

  if (state.kubeIpvs0.present) {
    leftovers.push({
      kind: 'dummy-device',
      name: KUBE_IPVS0,
      detail: state.kubeIpvs0.addresses.length === 0 ? 'no addresses' : `addresses ${state.kubeIpvs0.addresses.join(', ')}`,
      owner: 'kube-proxy',
    });
  }

  const sets = state.ipsetNames;
  if (sets.text !== null) {
    for (const name of parseIpsetNames(sets.text).filter((n) => n.startsWith('KUBE-'))) leftovers.push({ kind: 'ipset', name, detail: 'ipset', owner: 'kube-proxy' });
  } else {
    unreadable.push(`${sets.command}: ${sets.missing === true ? 'not installed' : (sets.error ?? 'failed')}`);
  }

  const readable = state.iptablesSaves.filter((r) => r.text !== null);
  if (readable.length === 0) unreadable.push(`iptables: ${state.iptablesSaves.map((r) => `${r.command}: ${r.missing === true ? 'not installed' : (r.error ?? 'failed')}`).join('; ') || 'no iptables-save found'}`);
  for (const reading of state.iptablesSaves) {
    if (reading.text === null) {
      if (reading.missing !== true && readable.length > 0) unreadable.push(`${reading.command}: ${reading.error ?? 'failed'}`);
      continue;
    }
    for (const table of parseIptablesSave(reading.text)) {
      for (const chain of table.chains.filter((c) => c.startsWith('KUBE-'))) {
        const kubelet = KUBELET_CHAINS.has(chain);
        const rules = table.rules.filter((r) => r.chain === chain).length;
        leftovers.push({
          kind: 'iptables-chain',
          name: `${table.table} ${chain} (${reading.command})`,
          detail: `${rules} rule(s)${kubelet ? '; created by the kubelet, which kube-proxy --cleanup does not touch' : ''}`,
          owner: kubelet ? 'kubelet' : 'kube-proxy',
        });
      }
      for (const { chain, rule } of table.rules.filter((r) => !r.chain.startsWith('KUBE-'))) {
        const target = /-j (KUBE-\S+)/.exec(rule)?.[1];
        const set = /--match-set (KUBE-\S+)/.exec(rule)?.[1];
        if (target === undefined && set === undefined) continue;
        const kubelet = target !== undefined && KUBELET_CHAINS.has(target);
        leftovers.push({ kind: 'iptables-rule', name: `${table.table} ${chain} -> ${target ?? set} (${reading.command})`, detail: rule, owner: kubelet ? 'kubelet' : 'kube-proxy' });
      }
    }
  }

  const nft = state.nftTables;
  if (nft.text !== null) {
    for (const table of parseNftTables(nft.text).filter((t) => /\bkube-proxy$/.test(t))) {
      leftovers.push({ kind: 'nft-table', name: table, detail: "kube-proxy's nftables table", owner: 'kube-proxy' });
    }
  } else if (nft.missing !== true) {
    unreadable.push(`${nft.command}: ${nft.error ?? 'failed'}`);
  }

  return { clean: !leftovers.some((l) => l.owner === 'kube-proxy'), leftovers, otherVirtualServers, unreadable };
}

export function formatLeftoverReport(report: LeftoverReport): string {
  const lines: string[] = [];
  const proxy = report.leftovers.filter((l) => l.owner === 'kube-proxy');
  const kubelet = report.leftovers.filter((l) => l.owner === 'kubelet');
  lines.push(proxy.length === 0 ? 'no kube-proxy state is left on this host' : `${proxy.length} piece(s) of kube-proxy state are still on this host:`);
  for (const l of proxy) lines.push(`  ${l.kind} ${l.name}: ${l.detail}`);
  if (kubelet.length > 0) {
    lines.push(`left by the kubelet (not kube-proxy's; remove with iptables -t <table> -F/-X <chain> if unwanted):`);
    for (const l of kubelet) lines.push(`  ${l.kind} ${l.name}: ${l.detail}`);
  }
  if (report.otherVirtualServers.length > 0) {
    lines.push('IPVS virtual servers that are not kube-proxy\'s (left alone):');
    for (const vs of report.otherVirtualServers) lines.push(`  ${vs}`);
  }
  if (report.unreadable.length > 0) {
    lines.push('could not be checked:');
    for (const u of report.unreadable) lines.push(`  ${u}`);
  }
  return `${lines.join('\n')}\n`;
}

async function readCommand(host: Host, file: string, args: readonly string[]): Promise<CommandReading> {
  const result = await host.run(file, args, { timeoutMs: READ_TIMEOUT_MS, env: { LC_ALL: 'C' } });
  const command = [file, ...args].join(' ');
  if (result.notFound) return { command, text: null, missing: true };
  if (result.exitCode !== 0) return { command, text: null, error: `${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}`}: ${tail(result.stderr || result.stdout, 3).replaceAll('\n', ' ')}` };
  return { command, text: result.stdout };
}

/** Reads everything findLeftovers() judges, through the Host (needs root for ipset and iptables). */
export async function readHostNetworkState(host: Host): Promise<HostNetworkState> {
  const procIpVs = await host.readFile(PROC_IP_VS);
  const links = (await host.listDir('/sys/class/net')) ?? [];
  const present = links.includes(KUBE_IPVS0);
  let addresses: string[] = [];
  if (present) {
    const shown = await readCommand(host, 'ip', ['-o', 'addr', 'show', 'dev', KUBE_IPVS0]);
    addresses = shown.text === null ? [] : parseIpAddrOneline(shown.text).map((a) => a.address);
  }
  const ipsetNames = await readCommand(host, 'ipset', ['list', '-n']);
  let iptablesSaves = await Promise.all(IPTABLES_SAVE_COMMANDS.map((command) => readCommand(host, command, [])));
  if (iptablesSaves.every((r) => r.missing === true)) iptablesSaves = await Promise.all(IPTABLES_SAVE_FALLBACK.map((command) => readCommand(host, command, [])));
  const nftTables = await readCommand(host, 'nft', ['list', 'tables']);
  return { procIpVs, kubeIpvs0: { present, addresses }, ipsetNames, iptablesSaves, nftTables };
}
