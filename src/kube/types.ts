// The parts of Kubernetes Services and EndpointSlices that decide what
// kube-proxy programs, after narrow validation and with API defaults applied.

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';
export type IpFamilyName = 'IPv4' | 'IPv6';

export interface KubeServicePort {
  /** "" when unnamed. */
  readonly name: string;
  readonly protocol: ServiceProtocol;
  readonly port: number;
  /** 0 when the port has no NodePort. */
  readonly nodePort: number;
}

export interface KubeLoadBalancerIngress {
  /** Canonical IP, or null for hostname-only entries. */
  readonly ip: string | null;
  /** "VIP", "Proxy", or null when the field is absent (means VIP). */
  readonly ipMode: string | null;
}

export interface KubeService {
  readonly namespace: string;
  readonly name: string;
  readonly type: ServiceType;
  /** spec.clusterIP as written: an IP (canonical), "None", or "" when unset. */
  readonly clusterIP: string;
  /** spec.clusterIPs (canonical IPs; "None" kept as is). */
  readonly clusterIPs: readonly string[];
  readonly ipFamilies: readonly IpFamilyName[];
  readonly ports: readonly KubeServicePort[];
  /** Canonical IPs. */
  readonly externalIPs: readonly string[];
  readonly loadBalancerIngress: readonly KubeLoadBalancerIngress[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds, or null when absent (the API default applies). */
  readonly affinityTimeoutSeconds: number | null;
  /** null when absent (the API defaults it to Cluster). */
  readonly externalTrafficPolicy: TrafficPolicy | null;
  readonly internalTrafficPolicy: TrafficPolicy | null;
  /** Topology-aware routing requested (annotation or spec.trafficDistribution), as written; null when not. */
  readonly topologyHint: string | null;
  /**
   * The hints annotation as kube-proxy reads it (pkg/proxy/service.go at v1.29.15: the deprecated
   * service.kubernetes.io/topology-aware-hints when present, else service.kubernetes.io/topology-mode),
   * verbatim; null when neither is set. Only kube-proxy before 1.31 looks at it.
   */
  readonly hintsAnnotation: string | null;
}

export interface KubeEndpoint {
  /** Canonical IPs (kube-proxy only uses the first). */
  readonly addresses: readonly string[];
  /** Nil conditions read as kube-proxy reads them: ready and serving default to true, terminating to false. */
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string | null;
  /** hints.forZones is set (topology-aware routing may filter this endpoint). */
  readonly hasZoneHints: boolean;
  /** hints.forZones[].name. */
  readonly zoneHints: readonly string[];
  /** hints.forNodes[].name (PreferSameNode). */
  readonly nodeHints: readonly string[];
}

export interface KubeEndpointPort {
  /** null when the field is absent: kube-proxy ignores such ports. */
  readonly name: string | null;
  /** null when absent. */
  readonly port: number | null;
  readonly protocol: ServiceProtocol;
}

export interface KubeEndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** The kubernetes.io/service-name label; null when missing (kube-proxy ignores the slice). */
  readonly serviceName: string | null;
  /** IPv4, IPv6 or FQDN. */
  readonly addressType: string;
  readonly ports: readonly KubeEndpointPort[];
  readonly endpoints: readonly KubeEndpoint[];
}

/** What `kubectl get services,endpointslices -A -o json` says, narrowed to what kube-proxy uses. */
export interface ClusterState {
  readonly services: readonly KubeService[];
  readonly endpointSlices: readonly KubeEndpointSlice[];
  /** Items of other kinds that were skipped, by kind. */
  readonly ignoredKinds: Readonly<Record<string, number>>;
}
