// What behaves differently when kube-proxy leaves IPVS for nftables or iptables:
// each rule reads the cluster (Services, EndpointSlices, Nodes), kube-proxy's
// configuration and version, and each node's IPVS table and facts, and returns
// findings with a reason and the source that says so (./sources.ts). Pure: data in,
// data out; the CLI gathers the input (src/cli/commands/migrate-check.ts).
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';
import { expandNodePortAddresses } from '../ipvs/expect.js';
import type { IpvsTable } from '../ipvs/model.js';
import { cidrContains, compareAddresses, ipFamilyOf, isIpv6LinkLocal, isLoopback, toCidr } from '../kube/ip.js';
import type { ClusterState, KubeService } from '../kube/types.js';
import { BOUNDARIES, reached } from '../kubeproxy/versions.js';
import type { KubeProxySettingsSeen } from './kube-proxy-config.js';
import type { SourceId } from './sources.js';
import { SOURCES } from './sources.js';

export const TARGET_MODES = ['nftables', 'iptables'] as const;
export type TargetMode = (typeof TARGET_MODES)[number];

/** blocker: the target mode will not start or will break the node; change: something behaves differently; info: no change, or could not tell. */
export type FindingSeverity = 'blocker' | 'change' | 'info';

export type RuleId =
  | 'kube-proxy-version'
  | 'scheduler'
  | 'scheduler-flags'
  | 'affinity'
  | 'ipvs-settings'
  | 'strict-arp'
  | 'service-address-arp'
  | 'service-address-ports'
  | 'nodeport-addresses'
  | 'localhost-nodeport'
  | 'ipvs-state-cleanup'
  | 'target-kernel'
  | 'target-nft';

export interface MigrationFinding {
  readonly rule: RuleId;
  readonly severity: FindingSeverity;
  readonly scope: 'kube-proxy' | 'node' | 'service';
  /** "kube-proxy", the node's name, or "namespace/name". */
  readonly subject: string;
  readonly message: string;
  readonly source: string;
  /** The node addresses the finding is about, when it names some (nodeport-addresses: the addresses NodePorts stop answering on). */
  readonly addresses?: readonly string[];
}

/** What was read from one node. null fields could not be read (see `unread`). */
export interface NodeFacts {
  readonly name: string;
  /** The Node object's InternalIPs (what nodePortAddresses "primary" means). */
  readonly internalIPs: readonly string[];
  /** Addresses on the node's interfaces except kube-ipvs0. */
  readonly addresses: readonly string[] | null;
  readonly kubeIpvs0: readonly string[] | null;
  readonly table: IpvsTable | null;
  /** /proc/sys/kernel/osrelease, e.g. "6.1.0-26-amd64". */
  readonly kernelRelease: string | null;
  /** `nft --version` output; null when nft is not on the node. */
  readonly nftVersion: string | null;
  /** What could not be read, and why (shown in the report). */
  readonly unread: readonly string[];
}

export interface MigrationInput {
  readonly target: TargetMode;
  readonly cluster: ClusterState;
  readonly nodes: readonly NodeFacts[];
  readonly kubeProxy: {
    readonly version: KubeVersion | null;
    /** Where the version came from ("the kube-proxy DaemonSet's image", ...), or why it is unknown. */
    readonly versionFrom: string;
    readonly config: KubeProxySettingsSeen | null;
    /** Where the configuration came from, or why it could not be read. */
    readonly configFrom: string;
  };
}

export interface MigrationReport {
  readonly target: TargetMode;
  /** No blocker and no change: switching changes nothing these rules know of. */
  readonly ok: boolean;
  readonly counts: Readonly<Record<FindingSeverity, number>>;
  readonly findings: readonly MigrationFinding[];
  readonly inputs: { readonly kubeProxyVersion: string; readonly kubeProxyConfig: string; readonly nodes: readonly { readonly name: string; readonly unread: readonly string[] }[] };
}

/** The IPVS default scheduler when ipvs.scheduler is empty (pkg/proxy/ipvs/proxier.go NewProxier). */
const DEFAULT_SCHEDULER = 'rr';
/** sessionAffinityConfig.clientIP.timeoutSeconds' API default (pkg/apis/core/v1/defaults.go, 3 hours). */
const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
/** Schedulers that keep a client (or a destination) on the same endpoint without affinity. */
const HASHING_SCHEDULERS = new Set(['sh', 'dh', 'mh', 'lblc', 'lblcr']);
/** Schedulers that follow the endpoints' load. */
const LOAD_SCHEDULERS = new Set(['lc', 'wlc', 'sed', 'nq', 'ovf', 'twos']);

const cite = (id: SourceId): string => SOURCES[id];
const serviceName = (s: KubeService): string => `${s.namespace}/${s.name}`;
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : noun.endsWith('s') ? 'es' : 's'}`;
const targetRandom = (target: TargetMode): SourceId => (target === 'nftables' ? 'nftablesRandom' : 'iptablesRandom');

/** Services kube-proxy proxies: not headless, not ExternalName. */
function proxiedServices(cluster: ClusterState): KubeService[] {
  return cluster.services.filter((s) => s.type !== 'ExternalName' && s.clusterIP !== 'None' && s.clusterIP !== '');
}

/** Distinct ready endpoint addresses of a Service, from its EndpointSlices. */
function readyEndpoints(cluster: ClusterState, s: KubeService): number {
  const addresses = new Set<string>();
  for (const slice of cluster.endpointSlices) {
    if (slice.namespace !== s.namespace || slice.serviceName !== s.name) continue;
    for (const e of slice.endpoints) if (e.ready && e.addresses[0] !== undefined) addresses.add(e.addresses[0]);
  }
  return addresses.size;
}

/** The addresses of a Service that IPVS binds to kube-ipvs0 and gives virtual servers (not NodePorts). */
function serviceVips(s: KubeService): { clusterIPs: string[]; external: string[] } {
  const clusterIPs = s.clusterIPs.length > 0 ? s.clusterIPs.filter((ip) => ip !== 'None') : [s.clusterIP];
  const lb = s.loadBalancerIngress.filter((i) => i.ip !== null && i.ipMode !== 'Proxy').map((i) => i.ip as string);
  return { clusterIPs, external: [...new Set([...s.externalIPs, ...lb])] };
}

/** Virtual servers of the node tables that belong to the Service's ClusterIPs and ports. */
function serviceVirtualServers(nodes: readonly NodeFacts[], s: KubeService) {
  const { clusterIPs } = serviceVips(s);
  const keys = new Set(s.ports.flatMap((p) => clusterIPs.map((ip) => `${p.protocol}/${ip}/${p.port}`)));
  return nodes.flatMap((n) => (n.table?.services ?? []).filter((vs) => keys.has(`${vs.protocol}/${vs.address}/${vs.port}`)).map((vs) => ({ node: n, vs })));
}

const versionText = (v: KubeVersion | null): string => (v === null ? 'unknown' : formatKubeVersion(v));

// ---- the rules -------------------------------------------------------------------------------

type Rule = (input: MigrationInput) => MigrationFinding[];

const kubeProxyVersionRule: Rule = ({ target, kubeProxy }) => {
  if (target !== 'nftables') return [];
  const v = kubeProxy.version;
  const base = { rule: 'kube-proxy-version' as const, scope: 'kube-proxy' as const, subject: 'kube-proxy', source: cite('nftablesGate') };
  if (v === null) return [{ ...base, severity: 'info', message: `kube-proxy's version is unknown (${kubeProxy.versionFrom}): nftables mode needs ${formatKubeVersion({ major: 1, minor: BOUNDARIES.nftablesAlpha.minor, patch: null })} or later, on by default from 1.${BOUNDARIES.nftablesBeta.minor}` }];
  if (!reached(v, 'nftablesAlpha')) return [{ ...base, severity: 'blocker', message: `kube-proxy ${versionText(v)} has no nftables mode (it arrived in 1.${BOUNDARIES.nftablesAlpha.minor}); upgrade first` }];
  if (!reached(v, 'nftablesBeta')) return [{ ...base, severity: 'change', message: `kube-proxy ${versionText(v)}: nftables mode is alpha and needs featureGates NFTablesProxyMode: true` }];
  return [];
};

const schedulerRule: Rule = ({ target, cluster, nodes, kubeProxy }) => {
  const configured = kubeProxy.config?.ipvs.scheduler || DEFAULT_SCHEDULER;
  const findings: MigrationFinding[] = [];
  const after = target === 'nftables' ? 'nftables picks an endpoint at random for each new connection' : 'iptables picks an endpoint at random for each new connection';
  let rrServices = 0;
  for (const s of proxiedServices(cluster)) {
    const endpoints = readyEndpoints(cluster, s);
    if (endpoints < 2) continue;
    const seen = [...new Set(serviceVirtualServers(nodes, s).map((x) => x.vs.scheduler).filter((x) => x !== ''))];
    const schedulers = seen.length > 0 ? seen : [configured];
    const others = schedulers.filter((x) => x !== 'rr');
    if (others.length === 0) {
      rrServices += 1;
      continue;
    }
    const why = others.some((x) => HASHING_SCHEDULERS.has(x))
      ? 'today a client (or destination) keeps hashing to the same endpoint without session affinity; afterwards only sessionAffinity: ClientIP keeps it there'
      : others.some((x) => LOAD_SCHEDULERS.has(x))
        ? 'today new connections go to the least loaded endpoint; afterwards the load is not looked at'
        : 'the IPVS scheduler stops applying';
    findings.push({
      rule: 'scheduler', severity: 'change', scope: 'service', subject: serviceName(s),
      message: `scheduler ${others.join(', ')} over ${plural(endpoints, 'ready endpoint')}: ${why}; ${after}`,
      source: `${cite('ipvsScheduler')}; ${cite(targetRandom(target))}`,
    });
  }
  if (rrServices > 0) {
    findings.push({
      rule: 'scheduler', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy',
      message: `${plural(rrServices, 'Service')} with two or more endpoints use rr: strict rotation becomes a random pick per connection (the same spread on average, not per client or per burst)`,
      source: `${cite('ipvsScheduler')}; ${cite(targetRandom(target))}`,
    });
  }
  return findings;
};

const schedulerFlagsRule: Rule = ({ cluster, nodes, kubeProxy }) => {
  const findings: MigrationFinding[] = [];
  if ((kubeProxy.config?.ipvs.scheduler ?? '') === 'mh') {
    findings.push({
      rule: 'scheduler-flags', severity: 'change', scope: 'kube-proxy', subject: 'kube-proxy',
      message: 'scheduler mh runs with the source-hash flag kube-proxy sets on every virtual server; no other mode has scheduler flags',
      source: cite('ipvsScheduler'),
    });
  }
  for (const s of proxiedServices(cluster)) {
    const flags = [...new Set(serviceVirtualServers(nodes, s).flatMap((x) => x.vs.flags).filter((f) => f !== 'ops'))];
    if (flags.length === 0) continue;
    findings.push({
      rule: 'scheduler-flags', severity: 'change', scope: 'service', subject: serviceName(s),
      message: `its virtual servers carry scheduler flags ${flags.join(', ')}: they stop applying (nftables and iptables have no scheduler)`,
      source: cite('ipvsScheduler'),
    });
  }
  const hidden = nodes.filter((n) => n.table?.absent?.includes('flags') === true).map((n) => n.name);
  if (hidden.length > 0) {
    findings.push({
      rule: 'scheduler-flags', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy',
      message: `scheduler flags cannot be seen in /proc/net/ip_vs (nodes ${hidden.join(', ')}); \`ipvsadm -Ln\` on a node shows them`,
      source: cite('ipvsScheduler'),
    });
  }
  return findings;
};

const affinityRule: Rule = ({ target, cluster }) => {
  const findings: MigrationFinding[] = [];
  for (const s of proxiedServices(cluster)) {
    if (s.sessionAffinity !== 'ClientIP') continue;
    const timeout = s.affinityTimeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS;
    const { clusterIPs, external } = serviceVips(s);
    const nodePorts = s.ports.filter((p) => p.nodePort > 0).length;
    const addresses = clusterIPs.length + external.length + (nodePorts > 0 ? 1 : 0);
    const shared = addresses > 1
      ? ` Today each address of the Service (ClusterIP, ${nodePorts > 0 ? 'each node address of its NodePorts, ' : ''}${external.length > 0 ? 'each external IP, ' : ''}…) keeps its own affinity; afterwards one affinity per Service port covers all of them.`
      : '';
    findings.push({
      rule: 'affinity', severity: 'change', scope: 'service', subject: serviceName(s),
      message: `ClientIP affinity, timeout ${timeout}s: IPVS keeps a client on its endpoint while it has connections open and ${timeout}s after; ${target} forgets it ${timeout}s after the client's last NEW connection, even while an older connection is still open.${shared}`,
      source: `${cite('ipvsPersistence')}; ${cite(target === 'nftables' ? 'nftablesAffinity' : 'iptablesAffinity')}`,
    });
  }
  return findings;
};

const ipvsSettingsRule: Rule = ({ target, kubeProxy }) => {
  const c = kubeProxy.config;
  if (c === null) return [];
  const findings: MigrationFinding[] = [];
  const base = { rule: 'ipvs-settings' as const, scope: 'kube-proxy' as const, subject: 'kube-proxy', source: cite('ipvsOnlyConfig') };
  const periods = [['syncPeriod', c.ipvs.syncPeriod], ['minSyncPeriod', c.ipvs.minSyncPeriod]].filter(([, v]) => v !== null);
  if (periods.length > 0) {
    findings.push({ ...base, severity: 'info', message: `${periods.map(([k, v]) => `ipvs.${k ?? ''} (${v ?? ''})`).join(' and ')} stop applying: set ${target}.${periods.map(([k]) => k).join(` and ${target}.`)} to keep them` });
  }
  const timeouts = [['tcpTimeout', c.ipvs.tcpTimeout], ['tcpFinTimeout', c.ipvs.tcpFinTimeout], ['udpTimeout', c.ipvs.udpTimeout]].filter(([, v]) => v !== null);
  if (timeouts.length > 0) {
    findings.push({
      ...base, severity: 'change',
      message: `${timeouts.map(([k, v]) => `ipvs.${k ?? ''} (${v ?? ''})`).join(', ')}: IPVS connection timeouts (ipvsadm --set) no longer govern Service connections; the kernel's conntrack timeouts do (kube-proxy's conntrack.* settings)`,
    });
  }
  if (c.ipvs.excludeCIDRs.length > 0) {
    findings.push(target === 'nftables'
      ? { ...base, severity: 'change', message: `ipvs.excludeCIDRs (${c.ipvs.excludeCIDRs.join(', ')}) protects other software's virtual servers today; kube-proxy starting in nftables mode flushes the whole IPVS table, those included`, source: `${cite('ipvsOnlyConfig')}; ${cite('nftablesCleansIpvs')}` }
      : { ...base, severity: 'info', message: `ipvs.excludeCIDRs (${c.ipvs.excludeCIDRs.join(', ')}) stops applying; iptables mode does not touch the IPVS table at all` });
  }
  return findings;
};

const strictArpRule: Rule = ({ kubeProxy }) => {
  if (kubeProxy.config?.ipvs.strictARP !== true) return [];
  return [{
    rule: 'strict-arp', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy',
    message: 'ipvs.strictARP stops applying: arp_ignore=1 and arp_announce=2 stay as kube-proxy set them until changed or rebooted; they exist because IPVS binds Service addresses on every node (what relies on them, e.g. MetalLB in layer-2 mode, needs them only with IPVS)',
    source: `${cite('strictArp')}; ${cite('kubeIpvs0Bind')}`,
  }];
};

const serviceAddressArpRule: Rule = ({ target, cluster, nodes, kubeProxy }) => {
  if (kubeProxy.config?.ipvs.strictARP === true) return [];
  const nodeAddresses = new Set(nodes.flatMap((n) => [...n.internalIPs, ...(n.addresses ?? [])]));
  const findings: MigrationFinding[] = [];
  for (const s of proxiedServices(cluster)) {
    const external = serviceVips(s).external.filter((ip) => !nodeAddresses.has(ip));
    if (external.length === 0) continue;
    findings.push({
      rule: 'service-address-arp', severity: 'change', scope: 'service', subject: serviceName(s),
      message: `${external.join(', ')} ${external.length === 1 ? 'is' : 'are'} bound on kube-ipvs0 of every node and, with strictARP off, every node answers ARP for ${external.length === 1 ? 'it' : 'them'}; under ${target} no node owns ${external.length === 1 ? 'it' : 'them'}: clients on the nodes' network reach ${external.length === 1 ? 'it' : 'them'} only through a route or an announcer (e.g. MetalLB)`,
      source: `${cite('kubeIpvs0Bind')}; ${cite('strictArp')}`,
    });
  }
  return findings;
};

const serviceAddressPortsRule: Rule = ({ target, nodes, kubeProxy }) => {
  const bound = nodes.filter((n) => (n.kubeIpvs0?.length ?? 0) > 0);
  if (bound.length === 0) return [];
  const v = kubeProxy.version;
  const count = Math.max(...bound.map((n) => n.kubeIpvs0?.length ?? 0));
  const filtered = v !== null && reached(v, 'ipvsHostPortFilter');
  if (filtered) {
    return [{
      rule: 'service-address-ports', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy',
      message: `${plural(count, 'Service address')} ${count === 1 ? 'is' : 'are'} local on kube-ipvs0 today, but kube-proxy ${versionText(v)} rejects new connections to their other ports and ping (KUBE-IPVS-FILTER); ${target === 'nftables' ? 'nftables rejects other ports of ClusterIPs too' : 'iptables does not make them local at all'}: no host port was reachable through them before, none will be after`,
      source: `${cite('ipvsFilter')}; ${cite(target === 'nftables' ? 'nftablesClusterIpCheck' : 'kubeIpvs0Bind')}`,
    }];
  }
  return [{
    rule: 'service-address-ports', severity: 'change', scope: 'kube-proxy', subject: 'kube-proxy',
    message: `${plural(count, 'Service address')} ${count === 1 ? 'is' : 'are'} local on kube-ipvs0, and kube-proxy ${versionText(v)} ${v === null ? 'may not filter' : 'is older than the releases checked to filter'} them: they may answer ping and every port the node listens on (sshd, kubelet); after the switch they will not`,
    source: `${cite('kubeIpvs0Bind')}; ${cite('ipvsFilter')}`,
  }];
};

/** Addresses IPVS gives NodePort virtual servers with nodePortAddresses unset (isValidForSet). */
function ipvsNodePortAddresses(addresses: readonly string[]): string[] {
  return addresses.filter((a) => ipFamilyOf(a) !== null && !isLoopback(a) && !isIpv6LinkLocal(a));
}

const hasNodePorts = (cluster: ClusterState): number => proxiedServices(cluster).filter((s) => s.ports.some((p) => p.nodePort > 0)).length;

const nodePortAddressesRule: Rule = ({ target, cluster, nodes, kubeProxy }) => {
  const services = hasNodePorts(cluster);
  if (services === 0 || target !== 'nftables') return [];
  const configured = kubeProxy.config?.nodePortAddresses;
  if (configured === undefined) {
    return [{ rule: 'nodeport-addresses', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy', message: `kube-proxy's nodePortAddresses is unknown (${kubeProxy.configFrom}); if it is unset, nftables serves NodePorts only on each Node's InternalIPs, IPVS on every node address`, source: `${cite('nftablesNodePortDefault')}; ${cite('ipvsNodePortAll')}` }];
  }
  if (configured.length > 0) return [];
  const families = new Set(proxiedServices(cluster).filter((s) => s.ports.some((p) => p.nodePort > 0)).flatMap((s): string[] => (s.ipFamilies.length > 0 ? [...s.ipFamilies] : [ipFamilyOf(s.clusterIP) === 6 ? 'IPv6' : 'IPv4'])));
  const findings: MigrationFinding[] = [];
  for (const n of nodes) {
    if (n.addresses === null) {
      findings.push({ rule: 'nodeport-addresses', severity: 'info', scope: 'node', subject: n.name, message: `the node's addresses could not be read: NodePorts on addresses other than its InternalIPs (${n.internalIPs.join(', ') || 'none'}) will stop answering, if it has any`, source: cite('nftablesNodePortDefault') });
      continue;
    }
    const primary = new Set(n.internalIPs);
    // Each family's proxier serves only its own family's NodePorts.
    const lost = ipvsNodePortAddresses(n.addresses).filter((a) => !primary.has(a) && families.has(ipFamilyOf(a) === 6 ? 'IPv6' : 'IPv4')).sort(compareAddresses);
    if (lost.length === 0) continue;
    findings.push({
      rule: 'nodeport-addresses', severity: 'change', scope: 'node', subject: n.name,
      message: `NodePorts (${plural(services, 'Service')}) answer on ${lost.join(', ')} today; with nodePortAddresses unset nftables serves them only on the Node's InternalIPs (${n.internalIPs.join(', ') || 'none'}). Set nodePortAddresses to keep them`,
      source: `${cite('ipvsNodePortAll')}; ${cite('nftablesNodePortDefault')}`,
      addresses: lost,
    });
  }
  return findings;
};

const localhostNodePortRule: Rule = ({ target, cluster, kubeProxy }) => {
  const services = hasNodePorts(cluster);
  if (services === 0) return [];
  if (target === 'nftables') {
    return [{ rule: 'localhost-nodeport', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy', message: 'NodePorts through 127.0.0.1: no change, neither IPVS nor nftables serves them', source: `${cite('ipvsNoLocalhost')}; ${cite('nftablesNoLocalhost')}` }];
  }
  const c = kubeProxy.config;
  if (c === null) {
    return [{ rule: 'localhost-nodeport', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy', message: `kube-proxy's configuration is unknown (${kubeProxy.configFrom}); by default iptables mode serves NodePorts on 127.0.0.1, which IPVS never did`, source: `${cite('iptablesLocalhost')}; ${cite('ipvsNoLocalhost')}` }];
  }
  // 1.37's keywords: "localhost" is 127.0.0.0/8 and ::1/128, "all" the zero CIDRs (expandNodePortAddresses).
  const allowsLoopback = c.nodePortAddresses.length === 0 || expandNodePortAddresses({ nodePortAddresses: c.nodePortAddresses }).some((cidr) => safeContains(cidr, '127.0.0.1'));
  if (c.localhostNodePorts === false || !allowsLoopback) return [];
  return [{
    rule: 'localhost-nodeport', severity: 'change', scope: 'kube-proxy', subject: 'kube-proxy',
    message: `NodePorts (${plural(services, 'Service')}) will also answer on 127.0.0.1 (IPVS never served them there), and kube-proxy sets net.ipv4.conf.all.route_localnet=1; set iptables.localhostNodePorts: false to keep today's behaviour`,
    source: `${cite('iptablesLocalhost')}; ${cite('ipvsNoLocalhost')}`,
  }];
};

function safeContains(cidr: string, address: string): boolean {
  try {
    return cidrContains(toCidr(cidr), address);
  } catch {
    return false;
  }
}

const ipvsStateCleanupRule: Rule = ({ target, cluster, nodes }) => {
  if (target === 'iptables') {
    return [{
      rule: 'ipvs-state-cleanup', severity: 'change', scope: 'kube-proxy', subject: 'kube-proxy',
      message: 'kube-proxy in iptables mode leaves IPVS state behind: kube-ipvs0 keeps every Service address local, the virtual servers, ipsets and KUBE-IPVS-* chains stay. Run `kube-proxy --cleanup` on each node and destroy the KUBE-6-* ipsets it leaves, then start kube-proxy again (check with `local-up assert --mode iptables`)',
      source: `${cite('iptablesKeepsIpvs')}; ${cite('ipvsCleanup')}`,
    }];
  }
  const known = new Set(proxiedServices(cluster).flatMap((s) => { const v = serviceVips(s); return [...v.clusterIPs, ...v.external]; }));
  const findings: MigrationFinding[] = [{
    rule: 'ipvs-state-cleanup', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy',
    message: 'kube-proxy starting in nftables mode removes IPVS state itself (if `modprobe -va ip_vs` works where it runs), except the IPv6 ipsets KUBE-6-* on nodes with IPv6: remove those by hand; `local-up assert --mode nftables` checks',
    source: cite('nftablesCleansIpvs'),
  }];
  for (const n of nodes) {
    if (n.table === null) continue;
    const nodeAddresses = new Set(n.addresses ?? []);
    const foreign = n.table.services.filter((vs) => vs.address !== null && !known.has(vs.address) && !nodeAddresses.has(vs.address));
    const fwm = n.table.services.filter((vs) => vs.protocol === 'FWM');
    const count = foreign.length + fwm.length;
    if (count === 0) continue;
    findings.push({
      rule: 'ipvs-state-cleanup', severity: 'change', scope: 'node', subject: n.name,
      message: `${plural(count, 'virtual server')} no Service owns (e.g. ${[...foreign, ...fwm].slice(0, 3).map((vs) => vs.protocol === 'FWM' ? `FWM ${vs.fwmark ?? '?'}` : `${vs.protocol} ${vs.address ?? ''}:${vs.port ?? ''}`).join(', ')}) will be deleted: kube-proxy in nftables mode flushes the whole IPVS table when it starts`,
      source: cite('nftablesCleansIpvs'),
    });
  }
  return findings;
};

/** "6.1.0-26-amd64" -> [6, 1]; null when unreadable. */
export function kernelMajorMinor(release: string): [number, number] | null {
  const match = /^(\d+)\.(\d+)/.exec(release.trim());
  return match === null ? null : [Number(match[1]), Number(match[2])];
}

/** "nftables v1.0.6 (Lester Gooch #5)" -> [1, 0, 6]; null when unreadable. */
export function nftVersionOf(text: string): [number, number, number] | null {
  const match = /\bv(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** kube-proxy's floor for nftables mode: pkg/util/kernel/constants.go NFTablesKubeProxyKernelVersion. */
export const NFTABLES_MIN_KERNEL: readonly [number, number] = [5, 13];
/** knftables' floor for the nft binary (see SOURCES.nftablesNft). */
export const NFTABLES_MIN_NFT: readonly [number, number, number] = [1, 0, 1];

const lessThan = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < b.length; i += 1) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};

const targetKernelRule: Rule = ({ target, nodes }) => {
  if (target !== 'nftables') return [];
  const floor = NFTABLES_MIN_KERNEL.join('.');
  return nodes.flatMap((n): MigrationFinding[] => {
    const base = { rule: 'target-kernel' as const, scope: 'node' as const, subject: n.name, source: cite('nftablesKernel') };
    const v = n.kernelRelease === null ? null : kernelMajorMinor(n.kernelRelease);
    if (v === null) return [{ ...base, severity: 'info', message: `kernel version unknown${n.kernelRelease === null ? '' : ` (${n.kernelRelease})`}: nftables mode needs ${floor} or later` }];
    if (lessThan(v, NFTABLES_MIN_KERNEL)) return [{ ...base, severity: 'blocker', message: `kernel ${n.kernelRelease ?? ''} is older than ${floor}: kube-proxy refuses nftables mode here` }];
    return [];
  });
};

const targetNftRule: Rule = ({ target, nodes }) => {
  if (target !== 'nftables') return [];
  const floor = NFTABLES_MIN_NFT.join('.');
  return nodes.flatMap((n): MigrationFinding[] => {
    const base = { rule: 'target-nft' as const, scope: 'node' as const, subject: n.name, source: cite('nftablesNft') };
    if (n.nftVersion === null) return [{ ...base, severity: 'info', message: `no nft on the node: kube-proxy needs nft ${floor} or later where it runs (its image has its own)` }];
    const v = nftVersionOf(n.nftVersion);
    if (v === null) return [{ ...base, severity: 'info', message: `nft's version could not be read (${n.nftVersion.trim()}): kube-proxy needs ${floor} or later` }];
    if (lessThan(v, NFTABLES_MIN_NFT)) return [{ ...base, severity: 'blocker', message: `nft ${v.join('.')} on the node is older than ${floor}: kube-proxy's own nft refuses it if it runs on the host, and an older host nft can break once kube-proxy's rules exist` }];
    return [];
  });
};

/** Every rule, in report order, with the sources it cites (for docs and tests). */
export const RULES: readonly { readonly id: RuleId; readonly check: Rule }[] = [
  { id: 'kube-proxy-version', check: kubeProxyVersionRule },
  { id: 'target-kernel', check: targetKernelRule },
  { id: 'target-nft', check: targetNftRule },
  { id: 'scheduler', check: schedulerRule },
  { id: 'scheduler-flags', check: schedulerFlagsRule },
  { id: 'affinity', check: affinityRule },
  { id: 'ipvs-settings', check: ipvsSettingsRule },
  { id: 'strict-arp', check: strictArpRule },
  { id: 'service-address-arp', check: serviceAddressArpRule },
  { id: 'service-address-ports', check: serviceAddressPortsRule },
  { id: 'nodeport-addresses', check: nodePortAddressesRule },
  { id: 'localhost-nodeport', check: localhostNodePortRule },
  { id: 'ipvs-state-cleanup', check: ipvsStateCleanupRule },
];

const SEVERITY_ORDER: Record<FindingSeverity, number> = { blocker: 0, change: 1, info: 2 };

/** Runs every rule; findings sorted blockers first, then changes, then information. */
export function checkMigration(input: MigrationInput): MigrationReport {
  const findings = RULES.flatMap((r) => r.check(input)).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const counts = { blocker: 0, change: 0, info: 0 };
  for (const f of findings) counts[f.severity] += 1;
  if (input.kubeProxy.config === null) {
    findings.push({ rule: 'ipvs-settings', severity: 'info', scope: 'kube-proxy', subject: 'kube-proxy', message: `kube-proxy's configuration could not be read (${input.kubeProxy.configFrom}): the rules on ipvs.* settings, strictARP and nodePortAddresses assumed nothing`, source: cite('ipvsOnlyConfig') });
    counts.info += 1;
  }
  return {
    target: input.target,
    ok: counts.blocker === 0 && counts.change === 0,
    counts,
    findings,
    inputs: {
      kubeProxyVersion: `${versionText(input.kubeProxy.version)} (${input.kubeProxy.versionFrom})`,
      kubeProxyConfig: input.kubeProxy.configFrom,
      nodes: input.nodes.map((n) => ({ name: n.name, unread: n.unread })),
    },
  };
}
