// Every Kubernetes or kernel version boundary kube-local-up relies on, written
// once, each with the source it came from. Code asks the functions below; no
// other file compares against a literal minor version.
import type { KubeVersion } from '../config/kube-version.js';
import { compareMinor } from '../config/kube-version.js';

export interface VersionBoundary {
  /** The first minor release (1.N) where the fact holds. */
  readonly minor: number;
  readonly fact: string;
  readonly source: string;
}

const KP = '../shared/docs/kube-proxy-ipvs.md';
const ANCHORS = '../shared/docs/anchors-local-up.md';
/** Flag dumps of kube-proxy per release (kube-proxy --help), one file per version. */
const FLAGS = 'zmlcc/k8s-the-docker-way parameter/v<version>/kube-proxy.md';

export const BOUNDARIES = {
  // --- kube-proxy: how it is configured -------------------------------------------------
  kubeProxyFlagsKnown: {
    minor: 4,
    fact: 'oldest kube-proxy whose flags kube-local-up knows (--proxy-mode, --cluster-cidr, --hostname-override, --kubeconfig, --feature-gates, --healthz-bind-address IP + --healthz-port, --conntrack-max-per-core, --conntrack-tcp-timeout-established)',
    source: 'kubernetes/website docs/admin/kube-proxy.md@020209051e8509414d96b3f51997a7166c767cf6 (generated 2-Sep-2016)',
  },
  kubeProxyConfigFile: {
    minor: 7,
    fact: 'kube-proxy reads a KubeProxyConfiguration file (--config, apiVersion componentconfig/v1alpha1); before 1.7 only flags exist',
    source: 'kubernetes/kubernetes PR #34727; history in PR #55234 ("Pre-1.7: command line flags only; 1.7: flags and a config file")',
  },
  kubeProxyMetricsServer: {
    minor: 7,
    fact: 'metrics (/metrics, /proxyMode) are served apart from healthz: metricsBindAddress 127.0.0.1:10249, healthzBindAddress 0.0.0.0:10256',
    source: 'kubernetes/kubernetes PRs #44968 and #48625 (release note of the 1.7 cherry-pick #49799)',
  },
  conntrackMinAndCloseWait: {
    minor: 8,
    fact: 'conntrack.min and conntrack.tcpCloseWaitTimeout (--conntrack-min, --conntrack-tcp-timeout-close-wait) exist',
    source: `${FLAGS.replace('<version>', '1.8.4')} has both; the 2016 flag reference has neither (1.5-1.7 not checked, treated as absent)`,
  },
  kubeProxyConfigGroup: {
    minor: 9,
    fact: 'the config apiVersion is kubeproxy.config.k8s.io/v1alpha1 (componentconfig/v1alpha1 before)',
    source: 'kubernetes/kubernetes PR #53645 (CHANGELOG-1.9, action required)',
  },
  featureGatesMap: {
    minor: 10,
    fact: 'featureGates in a KubeProxyConfiguration is a map (Name: true); before 1.10 it is a string "Name=true,Other=false"',
    source: 'kubernetes/kubernetes PR #57962 (merged Jan 2018, action required release note)',
  },
  nodePortAddresses: {
    minor: 10,
    fact: 'nodePortAddresses / --nodeport-addresses exist',
    source: `${FLAGS.replace('<version>', '1.9.0')} lacks the flag, v1.10.0 has it`,
  },
  nodePortAddressesPrimary: {
    minor: 31,
    fact: 'nodePortAddresses may be the single value "primary": NodePorts only on the node\'s primary IP of each family (the Node object\'s first InternalIP, as kube-proxy detects its node IPs); before, kube-proxy refuses the configuration ("must be a valid CIDR")',
    source: 'kubernetes/kubernetes PR #123105; absent from pkg/proxy/apis/config at v1.29.15 and v1.30.0, present at v1.34.11 (cmd/kube-proxy/app/server.go expands it to <ip>/32 and <ip>/128); kubernetes/website PR #47556 (the 1.31 kube-proxy reference documents it)',
  },
  nodePortAddressesKeywords: {
    minor: 37,
    fact: 'nodePortAddresses may list the keywords "primary", "localhost" (127.0.0.0/8 and ::1/128) and "all" (0.0.0.0/0 and ::/0), each once, in any combination with CIDRs; before, "primary" had to be alone and the other two are refused ("must be a valid CIDR")',
    source: 'kubernetes/kubernetes PR #138427 (merged July 2026, KEP-6032); v1.34.11 pkg/proxy/apis/config/validation/validation.go accepts only "primary", alone; v1.37.2 validation.go validateKubeProxyNodePortAddress and cmd/kube-proxy/app/server.go expandNodePortAddressKeywords',
  },
  metricsPortFlag: {
    minor: 13,
    fact: '--metrics-bind-address takes an IP and --metrics-port the port (before 1.13 the metrics address cannot be set with flags: the flag takes an IP but validation wants IP:port)',
    source: `${FLAGS.replace('<version>', '1.12.3')} vs v1.13.4; PR #72682; issues #53754, #68669`,
  },
  bindAddressFlagsTakePort: {
    minor: 18,
    fact: '--metrics-bind-address and --healthz-bind-address take IP:port; --metrics-port/--healthz-port are deprecated',
    source: 'kubernetes/kubernetes PR #88512 (CHANGELOG-1.18, Deprecation)',
  },
  // --- kube-proxy: the modes ---------------------------------------------------------------
  ipvsAlpha: {
    minor: 8,
    fact: 'IPVS proxy mode exists (alpha); --proxy-mode=ipvs requires --feature-gates=SupportIPVSProxyMode=true',
    source: `${KP} §2.1 (feature gate table from kubernetes/website SupportIPVSProxyMode.md); ${FLAGS.replace('<version>', '1.8.4')}`,
  },
  ipvsGateBeta: {
    minor: 9,
    fact: 'SupportIPVSProxyMode is beta, still default false, still required',
    source: `${KP} §2.1; ${FLAGS.replace('<version>', '1.9.0')} ("BETA - default=false")`,
  },
  ipvsGateDefaultOn: {
    minor: 10,
    fact: 'SupportIPVSProxyMode is beta and on by default; feature gates in config files become a map',
    source: `${KP} §2.1 (kubeadm PR #60540; CHANGELOG-1.10); ${FLAGS.replace('<version>', '1.10.0')} ("BETA - default=true")`,
  },
  ipvsGateGA: {
    minor: 11,
    fact: 'SupportIPVSProxyMode is GA (always on); passing it only earns a warning',
    source: `${KP} §2.1`,
  },
  ipvsExcludeCidrs: {
    minor: 11,
    fact: 'ipvs.excludeCIDRs / --ipvs-exclude-cidrs exist',
    source: `${FLAGS.replace('<version>', '1.10.0')} lacks the flag, v1.11.0 has it`,
  },
  ipvsStrictArpBackport: {
    minor: 13,
    fact: 'later 1.13 and 1.14 patch releases carry ipvs.strictARP / --ipvs-strict-arp (back-ports); 1.13.0 set strict ARP unconditionally (PR #70530)',
    source: `kubernetes/kubernetes PRs #75720 (release-1.13) and #75719 (release-1.14); ${FLAGS.replace('<version>', '1.13.4')} lacks the flag, v1.14.4 has it`,
  },
  ipvsStrictArp: {
    minor: 15,
    fact: 'ipvs.strictARP / --ipvs-strict-arp exist from the .0 release',
    source: 'kubernetes/kubernetes PR #75295 (CHANGELOG-1.15 API Changes)',
  },
  ipvsTimeouts: {
    minor: 18,
    fact: 'ipvs.tcpTimeout, ipvs.tcpFinTimeout, ipvs.udpTimeout (--ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout) exist',
    source: `kubernetes/kubernetes PR #85517 (CHANGELOG-1.18); ${KP} §2.2`,
  },
  schedulerModuleRequired: {
    minor: 20,
    fact: "kube-proxy also requires the configured scheduler's ip_vs_<name> module",
    source: `${KP} §1.1 (PR #93040, CHANGELOG-1.20)`,
  },
  ipvsGateRemoved: {
    minor: 21,
    fact: 'SupportIPVSProxyMode no longer exists; passing it makes kube-proxy refuse to start',
    source: `${KP} §2.1 (PR #94514, "removed after 1.20")`,
  },
  ipvsFailureFatal: {
    minor: 26,
    fact: 'kube-proxy exits with an error instead of falling back to iptables when IPVS is unusable',
    source: `${KP} §1.1 (PR #111806, CHANGELOG-1.26)`,
  },
  moduleCheckRemoved: {
    minor: 27,
    fact: 'kube-proxy no longer checks a module list; it needs ipset >= 6.0 and a working scheduler (dummy virtual server probe)',
    source: `${KP} §1.1 (PRs #114669, #114878, CHANGELOG-1.27)`,
  },
  schedulerAllowListRemoved: {
    minor: 27,
    fact: 'any kernel IPVS scheduler is accepted; before 1.27 validation accepts only rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq (or empty)',
    source: `${KP} §2.2 and §5 item 4 (PR #114878, issue #114619); validateIPVSSchedulerMethod in pkg/proxy/apis/config/validation/validation.go`,
  },
  nftablesAlpha: {
    minor: 29,
    fact: 'nftables proxy mode exists (alpha, feature gate NFTablesProxyMode, default false)',
    source: `${KP} §2.1; ${ANCHORS}; kubernetes/website feature-gates/nftables-proxy-mode.md (alpha 1.29-1.30)`,
  },
  nftablesBeta: {
    minor: 31,
    fact: 'NFTablesProxyMode is beta and on by default: nftables mode needs no gate',
    source: 'kubernetes/website content/en/docs/reference/command-line-tools-reference/feature-gates/nftables-proxy-mode.md (beta from 1.31)',
  },
  nftablesGA: {
    minor: 33,
    fact: 'NFTablesProxyMode is GA and locked on: setting it to false is an error',
    source: `${KP} §2.1 ("GA/locked since v1.33 per the website gate data")`,
  },
  ipvsHostPortFilter: {
    minor: 30,
    fact: 'in IPVS mode the filter chain KUBE-IPVS-FILTER rejects new connections to kube-ipvs0 addresses that are no Service address:port, so host listeners (sshd, kubelet) do not answer on ClusterIPs; the oldest release checked to have it is 1.30 (added by PR #108460 for issue #72236, release not checked)',
    source: 'kubernetes/kubernetes@v1.30.0 and @v1.34.11 pkg/proxy/ipvs/proxier.go (kubeIPVSFilterChain); PR #108460',
  },
  ipvsDeprecated: {
    minor: 35,
    fact: 'IPVS proxy mode is deprecated (KEP-5495); kube-proxy warns and emits an IPVSDeprecation event',
    source: `${ANCHORS} §0 (PR #134539); ${KP} §0.1 [SL-1.35]`,
  },
  kubeProxyIpvsGate: {
    minor: 37,
    fact: 'feature gate KubeProxyIPVS (deprecated, default true) turns IPVS mode on; with it false kube-proxy refuses --proxy-mode=ipvs',
    source: `${KP} §2.4 (kubernetes/website feature-gates/KubeProxyIPVS.md; k/k PR #139397)`,
  },
  newestKnown: {
    minor: 37,
    fact: 'newest Kubernetes minor kube-local-up has checked its tables against (kind v0.33.0 ships v1.37.0)',
    source: 'kind v0.33.0 release notes (see src/kind/images.ts)',
  },
  // --- kube-proxy: which endpoints it programs ---------------------------------------------------
  topologyHintsWithoutAnnotation: {
    minor: 31,
    fact: 'kube-proxy follows zone hints whenever every ready endpoint has one and one names its zone; before, only when the Service carries service.kubernetes.io/topology-aware-hints (wins when present) or service.kubernetes.io/topology-mode with a value other than "", "disabled", "Disabled"',
    source: 'k8s.io/kubernetes pkg/proxy/topology.go canUseTopology at v1.29.15 and v1.30.0 (the annotation is skipped only with the ServiceTrafficDistribution gate on); pkg/features/kube_features.go at v1.34.11: ServiceTrafficDistribution alpha 1.30, beta default-on 1.31; seen by the oracle: real kube-proxy 1.29.15 keeps every endpoint in cases topology-hints-without-distribution and topology-zone-hints, 1.34.11 only the zone-a ones',
  },
  topologyNodeHints: {
    minor: 34,
    fact: 'kube-proxy reads hints.forNodes and prefers the endpoints hinted for its node when every ready endpoint has a node hint and one names it (PreferSameNode), before zone hints',
    source: 'k8s.io/kubernetes pkg/proxy/topology.go topologyModeFromHints and pkg/proxy/endpointslicecache.go at v1.34.11 (forNodes read only with PreferSameTrafficDistribution); pkg/features/kube_features.go at v1.34.11: PreferSameTrafficDistribution alpha 1.33, beta default-on 1.34; seen by the oracle (case topology-node-hints: 1.34.11 keeps the node-hinted endpoint only, 1.29.15 every endpoint)',
  },
  // --- the local provider (host processes) ----------------------------------------------------
  localProviderOldest: {
    minor: 27,
    fact: 'oldest Kubernetes the local provider runs: the kubelet reads containerRuntimeEndpoint from its KubeletConfiguration (and KubeSchedulerConfiguration v1 exists, since 1.25)',
    source: 'kubernetes/kubernetes PR #112136 ("kubelet: migrate container runtime endpoint flag to config", v1.27); siderolabs/talos PR #7650 ("moved to the kubelet config only in Kubernetes 1.27")',
  },
  kubeletFailsOnCgroupV1: {
    minor: 35,
    fact: 'the kubelet refuses to start on a cgroup v1 host unless its KubeletConfiguration sets failCgroupV1: false (the default turned true)',
    source: 'k8s.io/kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go: FailCgroupV1 defaults to false at v1.34.11, to true at v1.35.4 and v1.37.2; seen: real kubelet 1.37.2 "kubelet is configured to not run on a host using cgroup v1"',
  },
  // --- kubeadm ------------------------------------------------------------------------------
  kubeadmOldest: {
    minor: 8,
    fact: 'oldest kubeadm kube-local-up writes configuration for: kubeadm.k8s.io/v1alpha1 MasterConfiguration',
    source: 'kubernetes/kubernetes PR #65776 ("In v1.10 and earlier, kubeadm only had the v1alpha1 API")',
  },
  kubeadmKubeProxyConfig: {
    minor: 9,
    fact: 'MasterConfiguration embeds the kube-proxy config under kubeProxy.config (kubeadm 1.8 deploys kube-proxy with fixed flags and has no such field)',
    source: 'kubernetes/kubeadm issue #527 ("important feature for v1.9"); kubernetes/kubernetes PRs #55972, #56311; pkg/proxy/ipvs/README.md (kubeProxy.config example)',
  },
  kubeadmV1alpha2: {
    minor: 11,
    fact: 'kubeadm writes kubeadm.k8s.io/v1alpha2 (MasterConfiguration, kube-proxy still under kubeProxy.config)',
    source: 'kubernetes/kubernetes PR #65776; kubernetes/website PR #11662 ("1.11.x v1alpha2, 1.12.x v1alpha3")',
  },
  kubeadmV1alpha3: {
    minor: 12,
    fact: 'kubeadm.k8s.io/v1alpha3: InitConfiguration + ClusterConfiguration, KubeProxyConfiguration as a separate YAML document',
    source: 'kubernetes/kubernetes PRs #65629, #65787 (kubeadm issue #963)',
  },
  kubeadmV1beta1: {
    minor: 13,
    fact: 'kubeadm.k8s.io/v1beta1',
    source: 'kubernetes/kubeadm issue #963; cluster-api KubeVersionToKubeadmAPIGroupVersion (1.13-1.14 -> v1beta1)',
  },
  kubeadmV1beta2: {
    minor: 15,
    fact: 'kubeadm.k8s.io/v1beta2',
    source: 'kubernetes/kubernetes PR #76710 (CHANGELOG-1.15 "Introduce the v1beta2 config format")',
  },
  kubeadmV1beta3: {
    minor: 22,
    fact: 'kubeadm.k8s.io/v1beta3 (v1beta1 removed)',
    source: 'kubernetes/kubernetes PR #101129; kubermatic/kubeone PR #1457 ("v1beta3 API in v1.22")',
  },
  kubeadmV1beta4: {
    minor: 31,
    fact: 'kubeadm.k8s.io/v1beta4 (v1beta3 deprecated; removed in 1.36 by PR #136016)',
    source: 'kubernetes/kubernetes PRs #125029 and #136016',
  },
} as const satisfies Record<string, VersionBoundary>;

export type BoundaryId = keyof typeof BOUNDARIES;

/** True when version v is at or past the boundary. */
export const reached = (v: KubeVersion, id: BoundaryId): boolean =>
  compareMinor(v, { major: 1, minor: BOUNDARIES[id].minor }) >= 0;

/** Kernel boundary: nf_conntrack_ipv4 was merged into nf_conntrack in Linux 4.19 (commit a0ae2562). */
export const CONNTRACK_MERGED_KERNEL = { major: 4, minor: 19, source: `${KP} §1.1 (issue #70304)` } as const;

export type IpvsGateStage = 'unavailable' | 'required' | 'default-on' | 'ga' | 'removed';

/** What the SupportIPVSProxyMode feature gate means for a Kubernetes version. */
export function ipvsGateStage(v: KubeVersion): IpvsGateStage {
  if (!reached(v, 'ipvsAlpha')) return 'unavailable';
  if (!reached(v, 'ipvsGateDefaultOn')) return 'required';
  if (!reached(v, 'ipvsGateGA')) return 'default-on';
  if (!reached(v, 'ipvsGateRemoved')) return 'ga';
  return 'removed';
}

/** The release a boundary names, as users write it ("1.18"), for messages. */
export const since = (id: BoundaryId): string => `1.${BOUNDARIES[id].minor}`;

/** The last release before a boundary ("1.20" for a fact that starts in 1.21), for messages. */
export const lastBefore = (id: BoundaryId): string => `1.${BOUNDARIES[id].minor - 1}`;
