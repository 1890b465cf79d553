// What kube-proxy in IPVS mode should have programmed on one node, computed
// from Services and EndpointSlices. Follows ../shared/docs/kube-proxy-ipvs.md §3
// and kube-proxy's own code where the two meet (pkg/proxy/ipvs/proxier.go
// syncProxyRules/syncEndpoint, pkg/proxy/topology.go CategorizeEndpoints,
// pkg/proxy/service.go, pkg/proxy/endpointslicecache.go,
// pkg/proxy/util/nodeport_addresses.go). Pure: data in, data out.
import type { KubeVersion } from '../config/kube-version.js';
import type { ClusterState, KubeEndpoint, KubeService, KubeServicePort } from '../kube/types.js';
import type { IpFamily } from '../kube/ip.js';
import { addressValue, canonicalAddress, cidrContains, compareAddresses, ipFamilyOf, isIpv6LinkLocal, isLoopback, toCidr } from '../kube/ip.js';
import { NODEPORT_ADDRESSES_ALL, NODEPORT_ADDRESSES_LOCALHOST, NODEPORT_ADDRESSES_PRIMARY } from '../config/parsers.js';
import { reached } from '../kubeproxy/versions.js';
import type { ExpectedRealServer, ExpectedVirtualServer, ServiceRef, VirtualServerKind } from './model.js';
import { hostPort, virtualServerKey } from './model.js';

/** The Kubernetes API default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

/** The node kube-proxy runs on, as kube-proxy sees it. */
export interface ExpectNode {
  /** kube-proxy's node name (hostnameOverride): endpoints whose nodeName equals it are local. */
  readonly name: string;
  /** Every address on the node's interfaces except kube-ipvs0 (any family; loopback allowed, it is filtered). */
  readonly addresses: readonly string[];
  /** --nodeport-addresses CIDRs (any family), or ["primary"]; empty means every node address. */
  readonly nodePortAddresses: readonly string[];
  /**
   * The node's primary IPs as kube-proxy detects them (the Node object's InternalIPs, first of each
   * family counts); what nodePortAddresses "primary" stands for. Absent or without a family: that
   * family's proxier has no primary IP.
   */
  readonly primaryAddresses?: readonly string[];
  readonly scheduler: string;
  /** The family of the kube-proxy instance (dual-stack nodes run one per family). */
  readonly family: IpFamily;
  /** The node's topology.kubernetes.io/zone label; absent, null or '' when it has none (zone hints then never apply). */
  readonly zone?: string | null;
  /** The kube-proxy release to model where behaviour changed between releases (src/kubeproxy/versions.ts); absent: the newest. */
  readonly kubeVersion?: KubeVersion;
}

export interface ExpectedIpvsState {
  /** The families this expectation covers; virtual servers of other families belong to no checked proxier. */
  readonly families: readonly IpFamily[];
  readonly virtualServers: readonly ExpectedVirtualServer[];
  /** Addresses kube-proxy binds to the kube-ipvs0 dummy interface, sorted. */
  readonly kubeIpvs0Addresses: readonly string[];
  /** Things the expectation could not decide or that look odd in the input. */
  readonly notes: readonly string[];
}

/** One endpoint as kube-proxy keeps it for one Service port. */
interface EndpointInfo {
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly local: boolean;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
}

/** Endpoints by "namespace/name", then by "portName/protocol", then by "ip:port". */
type EndpointIndex = Map<string, Map<string, Map<string, EndpointInfo>>>;

const KIND_ORDER: Record<VirtualServerKind, number> = { ClusterIP: 0, ExternalIP: 1, LoadBalancer: 2, NodePort: 3 };

/** The IPVS state one kube-proxy (one IP family) should program on `node`. */
export function expectIpvsState(cluster: ClusterState, node: ExpectNode): ExpectedIpvsState {
  const family = node.family;
  const notes: string[] = [];
  const endpoints = indexEndpoints(cluster, node, notes);
  // GetAllLocalAddressesExcept(kube-ipvs0) + isValidForSet: this family, no loopback, no IPv6 link-local.
  const nodeAddressSet = new Set(
    node.addresses
      .filter((a) => ipFamilyOf(a) === family)
      .map(canonicalAddress)
      .filter((a) => !isLoopback(a) && !(family === 6 && isIpv6LinkLocal(a))),
  );

  const plans: PortPlan[] = [];
  for (const service of cluster.services) {
    // ShouldSkipService: headless and ExternalName Services get nothing at all.
    if (service.type === 'ExternalName' || service.clusterIP === '' || service.clusterIP === 'None') continue;
    const clusterIP = clusterIPForFamily(service, family);
    if (clusterIP === null) {
      if (service.ipFamilies.length > 0 && service.clusterIPs.length === 0) {
        notes.push(`${service.namespace}/${service.name} lists ipFamilies but no clusterIPs; kube-proxy takes its ClusterIP from clusterIPs, so it programs nothing`);
      }
      continue;
    }
    const externalIPs = uniqueOfFamily(service.externalIPs, family);
    // IsVIPMode: an ingress with ipMode other than VIP (i.e. Proxy) is handled by the load balancer itself.
    // NOTE: ipMode only reaches the API while the apiserver's LoadBalancerIPMode gate is on; kube-proxy's gate is assumed to match.
    const loadBalancerIPs = uniqueOfFamily(
      service.loadBalancerIngress
        .filter((ingress) => ingress.ip !== null && (ingress.ipMode === null || ingress.ipMode === 'VIP'))
        .map((ingress) => ingress.ip as string),
      family,
    );
    for (const port of service.ports) plans.push({ service, port, clusterIP: canonicalAddress(clusterIP), externalIPs, loadBalancerIPs });
  }

  // ClusterIPs are always bound; externalIPs and LB IPs unless another interface already holds them.
  // 127.0.0.1 as an externalIP is bound too: loopback never counts as a node address (isValidForSet).
  const bound = new Set<string>();
  for (const plan of plans) {
    bound.add(plan.clusterIP);
    for (const ip of plan.externalIPs) if (!nodeAddressSet.has(ip)) bound.add(ip);
    for (const ip of plan.loadBalancerIPs) if (!nodeAddressSet.has(ip)) bound.add(ip);
  }
  const nodePortIPs = plans.some((plan) => plan.port.nodePort !== 0) ? nodePortAddressesFor(node, nodeAddressSet, bound) : [];

  const byKey = new Map<string, ExpectedVirtualServer>();
  const ordered: ExpectedVirtualServer[] = [];
  const add = (vs: ExpectedVirtualServer): void => {
    const key = virtualServerKey(vs);
    const existing = byKey.get(key);
    if (existing !== undefined) {
      notes.push(
        `${key} is claimed by ${describeRef(existing.service)} (${existing.kind}) and ${describeRef(vs.service)} (${vs.kind}); ` +
          `kube-proxy keeps whichever it syncs last, this check expects the first`,
      );
      return;
    }
    byKey.set(key, vs);
    ordered.push(vs);
  };

  for (const plan of plans) {
    const { service, port } = plan;
    const ref: ServiceRef = { namespace: service.namespace, name: service.name, portName: port.name };
    const persistent = service.sessionAffinity === 'ClientIP'
      ? { timeout: service.affinityTimeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS }
      : null;
    // Policies as pkg/proxy/service.go derives them; "externally accessible" counts this family only.
    const externallyAccessible = port.nodePort !== 0 || plan.externalIPs.length > 0 || plan.loadBalancerIPs.length > 0;
    const internalLocal = service.internalTrafficPolicy === 'Local';
    const externalLocal = serviceIsExternallyAccessible(service) && service.externalTrafficPolicy === 'Local';
    const { cluster: clusterEndpoints, local: localEndpoints } = categorizeEndpoints(
      [...(endpoints.get(`${service.namespace}/${service.name}`)?.get(`${port.name}/${port.protocol}`)?.values() ?? [])],
      !internalLocal || externallyAccessible,
      internalLocal || (externalLocal && externallyAccessible),
      { service, node },
    );
    // syncEndpoint: with a Local policy and no local endpoint, fall back to the cluster endpoints
    // (PR #97081: pods on this node can still reach the Service). For ITP Local on a Service that
    // is not externally reachable the cluster list is empty, so the VS has no real servers.
    const pick = (onlyLocal: boolean): ExpectedRealServer[] =>
      toRealServers(onlyLocal && localEndpoints.length > 0 ? localEndpoints : clusterEndpoints);
    const internalServers = pick(internalLocal);
    // Most Services have no external virtual server: their list is made only when one needs it.
    let external: ExpectedRealServer[] | undefined;
    const externalServers = (): ExpectedRealServer[] => (external ??= externalLocal === internalLocal ? internalServers : pick(externalLocal));
    const make = (kind: VirtualServerKind, address: string, vsPort: number, realServers: ExpectedRealServer[]): ExpectedVirtualServer => ({
      protocol: port.protocol,
      address,
      port: vsPort,
      scheduler: node.scheduler,
      persistent,
      realServers,
      service: ref,
      kind,
    });
    add(make('ClusterIP', plan.clusterIP, port.port, internalServers));
    for (const ip of plan.externalIPs) add(make('ExternalIP', ip, port.port, externalServers()));
    for (const ip of plan.loadBalancerIPs) add(make('LoadBalancer', ip, port.port, externalServers()));
    // With no usable node address, kube-proxy skips the NodePort part of the Service (V10).
    if (port.nodePort !== 0) for (const ip of nodePortIPs) add(make('NodePort', ip, port.nodePort, externalServers()));
  }

  return {
    families: [family],
    virtualServers: ordered.sort(compareVirtualServers),
    kubeIpvs0Addresses: [...bound].sort(compareAddresses),
    notes,
  };
}

/** Expectations for several kube-proxy instances (dual-stack: one per family) on one node, as one state. */
export function expectIpvsStateForFamilies(cluster: ClusterState, node: Omit<ExpectNode, 'family'>, families: readonly IpFamily[]): ExpectedIpvsState {
  return mergeExpectedStates(families.map((family) => expectIpvsState(cluster, { ...node, family })));
}

export function mergeExpectedStates(states: readonly ExpectedIpvsState[]): ExpectedIpvsState {
  return {
    families: states.flatMap((s) => s.families),
    virtualServers: states.flatMap((s) => s.virtualServers),
    kubeIpvs0Addresses: states.flatMap((s) => s.kubeIpvs0Addresses),
    notes: states.flatMap((s) => s.notes),
  };
}

interface PortPlan {
  readonly service: KubeService;
  readonly port: KubeServicePort;
  readonly clusterIP: string;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
}

/** GetClusterIPByFamily: with ipFamilies, the clusterIPs entry at that family's index; without, clusterIP if it has the family. */
export function clusterIPForFamily(service: KubeService, family: IpFamily): string | null {
  if (service.ipFamilies.length === 0) {
    if (service.clusterIP === '' || service.clusterIP === 'None') return null;
    return ipFamilyOf(service.clusterIP) === family ? service.clusterIP : null;
  }
  const index = service.ipFamilies.indexOf(family === 4 ? 'IPv4' : 'IPv6');
  if (index === -1) return null;
  const ip = service.clusterIPs[index];
  return ip === undefined || ip === '' || ip === 'None' ? null : ip;
}

/** apiservice.ExternallyAccessible: decided by the Service type (and externalIPs for ClusterIP Services). */
function serviceIsExternallyAccessible(service: KubeService): boolean {
  return service.type === 'LoadBalancer' || service.type === 'NodePort' || (service.type === 'ClusterIP' && service.externalIPs.length > 0);
}

/**
 * The addresses NodePort virtual servers are created on (syncProxyRules "nodeIPs").
 * NodePortAddresses keeps the CIDRs of this family; none, or a /0, means every node address.
 */
function nodePortAddressesFor(node: ExpectNode, nodeAddressSet: ReadonlySet<string>, kubeIpvs0: ReadonlySet<string>): string[] {
  const cidrs = expandNodePortAddresses(node).map(toCidr).filter((cidr) => cidr.family === node.family);
  if (cidrs.length === 0 || cidrs.some((cidr) => cidr.prefix === 0)) return [...nodeAddressSet].sort(compareAddresses);
  // NOTE: GetNodeIPs matches the CIDRs against every interface address, kube-ipvs0 included, so
  // (in steady state) a CIDR that covers Service IPs also yields NodePort VSs on those IPs.
  const candidates = new Set([...node.addresses.filter((a) => ipFamilyOf(a) === node.family).map(canonicalAddress), ...kubeIpvs0]);
  return [...candidates].filter((a) => !isLoopback(a) && cidrs.some((cidr) => cidrContains(cidr, a))).sort(compareAddresses);
}

/**
 * nodePortAddresses with "primary" replaced by the node's primary IP of each family as a /32 or /128
 * (cmd/kube-proxy/app/server.go newProxyServer at v1.34.11; expandNodePortAddressKeywords at v1.37.2),
 * loopback skipped. A family with no primary IP gets no CIDR, so NewNodePortAddresses
 * (pkg/proxy/util/nodeport_addresses.go) gives its proxier the zero CIDR: every node address.
 */
export function expandNodePortAddresses(node: Pick<ExpectNode, 'nodePortAddresses' | 'primaryAddresses'>): string[] {
  return node.nodePortAddresses.flatMap((entry) => {
    // 1.37's keywords (expandNodePortAddressKeywords, v1.37.2): loopback of both families; the zero CIDRs.
    if (entry === NODEPORT_ADDRESSES_LOCALHOST) return ['127.0.0.0/8', '::1/128'];
    if (entry === NODEPORT_ADDRESSES_ALL) return ['0.0.0.0/0', '::/0'];
    if (entry !== NODEPORT_ADDRESSES_PRIMARY) return [entry];
    const cidrs: string[] = [];
    for (const family of [4, 6] as const) {
      const primary = (node.primaryAddresses ?? []).find((a) => ipFamilyOf(a) === family);
      if (primary !== undefined && !isLoopback(canonicalAddress(primary))) cidrs.push(`${canonicalAddress(primary)}/${family === 4 ? 32 : 128}`);
    }
    return cidrs;
  });
}

/** EndpointSliceCache: per Service port, the endpoints of this family, deduplicated by ip:port (local wins). */
function indexEndpoints(cluster: ClusterState, node: ExpectNode, notes: string[]): EndpointIndex {
  const familyType = node.family === 4 ? 'IPv4' : 'IPv6';
  const index: EndpointIndex = new Map();
  for (const slice of cluster.endpointSlices) {
    if (slice.addressType !== familyType) continue;
    if (slice.serviceName === null) {
      notes.push(`EndpointSlice ${slice.namespace}/${slice.name} has no kubernetes.io/service-name label; kube-proxy ignores it`);
      continue;
    }
    const serviceKey = `${slice.namespace}/${slice.serviceName}`;
    let byPort = index.get(serviceKey);
    if (byPort === undefined) index.set(serviceKey, (byPort = new Map()));
    for (const port of slice.ports) {
      if (port.name === null) {
        notes.push(`EndpointSlice ${slice.namespace}/${slice.name} has a port without a "name" field; kube-proxy ignores that port`);
        continue;
      }
      if (port.port === null || port.port === 0) continue;
      const portKey = `${port.name}/${port.protocol}`;
      let byEndpoint = byPort.get(portKey);
      if (byEndpoint === undefined) byPort.set(portKey, (byEndpoint = new Map()));
      for (const endpoint of slice.endpoints) {
        const first = endpoint.addresses[0];
        // Only the first address counts, as Go prints it: an IPv4-mapped IPv6 address in an IPv4
        // slice is programmed as plain IPv4 (endpointslicecache.go addEndpoints: ParseIPSloppy(..).String()).
        const address = first === undefined ? undefined : unmapIpv4(first);
        if (address === undefined || ipFamilyOf(address) !== node.family) continue;
        const info = toInfo(endpoint, address, port.port, node.name);
        const key = hostPort(info.address, info.port);
        if (!byEndpoint.has(key) || info.local) byEndpoint.set(key, info);
      }
    }
  }
  return index;
}

function toInfo(endpoint: KubeEndpoint, address: string, port: number, nodeName: string): EndpointInfo {
  return {
    address: canonicalAddress(address),
    port,
    ready: endpoint.ready,
    serving: endpoint.serving,
    terminating: endpoint.terminating,
    local: endpoint.nodeName !== null && endpoint.nodeName === nodeName,
    zoneHints: endpoint.zoneHints,
    nodeHints: endpoint.nodeHints,
  };
}

/** "::ffff:a.b.c.d" (in any spelling) as "a.b.c.d", as Go's net.IP String() prints it; other addresses unchanged. */
export function unmapIpv4(address: string): string {
  if (ipFamilyOf(address) !== 6) return address;
  const value = addressValue(address);
  if (value >> 32n !== 0xffffn) return address;
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/**
 * CategorizeEndpoints (pkg/proxy/topology.go): cluster endpoints are the ready ones the topology mode
 * allows, or every serving+terminating one when that leaves none (topology ignored); local endpoints
 * are this node's ready ones, else its serving+terminating ones (never filtered by topology).
 */
function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  usesCluster: boolean,
  usesLocal: boolean,
  context: { service: KubeService; node: ExpectNode },
): { cluster: EndpointInfo[]; local: EndpointInfo[] } {
  let cluster: EndpointInfo[] = [];
  if (usesCluster) {
    const allowed = topologyFilter(endpoints, context.service, context.node);
    cluster = endpoints.filter((ep) => ep.ready && allowed(ep));
    if (cluster.length === 0) cluster = endpoints.filter((ep) => ep.serving && ep.terminating);
  }
  let local: EndpointInfo[] = [];
  if (usesLocal) {
    local = endpoints.filter((ep) => ep.local && ep.ready);
    if (local.length === 0) local = endpoints.filter((ep) => ep.local && ep.serving && ep.terminating);
  }
  return { cluster, local };
}

/** Destinations kube-proxy adds: weight 1, forwarding left at Masq. */
function toRealServers(endpoints: readonly EndpointInfo[]): ExpectedRealServer[] {
  return endpoints
    .map((ep) => ({ address: ep.address, port: ep.port, weight: 1 }))
    .sort((a, b) => compareAddresses(a.address, b.address) || a.port - b.port);
}

/**
 * Which ready endpoints topology lets this node use (topologyModeFromHints + availableForTopology in
 * pkg/proxy/topology.go at v1.34.11; canUseTopology at v1.29.15). Hints apply only when every ready
 * endpoint carries one and at least one names this node (node hints, from 1.34) or its zone; before
 * 1.31 zone hints also need the Service's hints annotation (src/kubeproxy/versions.ts).
 */
function topologyFilter(endpoints: readonly EndpointInfo[], service: KubeService, node: ExpectNode): (ep: EndpointInfo) => boolean {
  const everything = (): boolean => true;
  const ready = endpoints.filter((ep) => ep.ready);
  if (ready.length === 0) return everything;
  const version = node.kubeVersion;
  const newest = version === undefined;
  if (newest || reached(version, 'topologyNodeHints')) {
    if (ready.every((ep) => ep.nodeHints.length > 0) && ready.some((ep) => ep.nodeHints.includes(node.name))) {
      return (ep) => ep.nodeHints.includes(node.name);
    }
  }
  if (!newest && !reached(version, 'topologyHintsWithoutAnnotation')) {
    const annotation = service.hintsAnnotation;
    if (annotation === null || annotation === '' || annotation === 'disabled' || annotation === 'Disabled') return everything;
  }
  const zone = node.zone ?? '';
  if (zone === '') return everything;
  if (ready.every((ep) => ep.zoneHints.length > 0) && ready.some((ep) => ep.zoneHints.includes(zone))) {
    return (ep) => ep.zoneHints.includes(zone);
  }
  return everything;
}

function compareVirtualServers(a: ExpectedVirtualServer, b: ExpectedVirtualServer): number {
  return (
    compareText(a.service.namespace, b.service.namespace) ||
    compareText(a.service.name, b.service.name) ||
    compareText(a.service.portName, b.service.portName) ||
    compareText(a.protocol, b.protocol) ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    compareAddresses(a.address, b.address) ||
    a.port - b.port
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The addresses of `family`, each once, in their order. NOTE (speed): most Services have none: no Set for them. */
function uniqueOfFamily(ips: readonly string[], family: IpFamily): string[] {
  if (ips.length === 0) return [];
  return [...new Set(ips.filter((ip) => ipFamilyOf(ip) === family))];
}

export function describeRef(ref: ServiceRef): string {
  return `${ref.namespace}/${ref.name}${ref.portName === '' ? '' : ` ${ref.portName}`}`;
}
