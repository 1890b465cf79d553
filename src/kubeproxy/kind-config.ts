// Plans a kind Cluster (kind.x-k8s.io/v1alpha4) that runs kube-proxy in the
// requested mode: networking.kubeProxyMode for the mode, and a
// KubeProxyConfiguration patch for the IPVS settings kind has no field for.
import YAML from 'yaml';
import { parseCidr } from '../config/parsers.js';
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';
import type { ResolvedSettings } from '../config/resolve.js';
import type { IpFamilySetting, ProxyMode } from '../config/settings.js';
import { usageError } from '../errors.js';
import { KIND_RELEASE, findKindNodeImage, pinnedKindVersions } from '../kind/images.js';
import type { IpvsTuning, KubeProxyPlan } from './config.js';
import { KUBE_PROXY_API_VERSION, planError, planKubeProxyConfig } from './config.js';
import { ipvsTuningOf } from './validate.js';

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';

/**
 * Values of networking.kubeProxyMode in the pinned kind release: iptables
 * (default), ipvs (kind v0.9.0, PR #1595), nftables (v0.23.0, PR #3577) and
 * none (v0.11.0). Source: kind pkg/apis/config/v1alpha4/types.go and
 * pkg/internal/apis/config/validate.go ("invalid kubeProxyMode"), via
 * ../shared/docs/anchors-local-up.md §2.1.
 */
export const KIND_PROXY_MODES = ['iptables', 'ipvs', 'nftables', 'none'] as const;

export interface KindConfigInput {
  readonly version: KubeVersion;
  readonly mode: ProxyMode;
  /** Written as `name:`; kind's --name still wins. */
  readonly clusterName?: string;
  readonly ipFamily: IpFamilySetting;
  /** undefined: kind's default for the family. */
  readonly serviceSubnet?: string;
  readonly podSubnet?: string;
  readonly workers: number;
  /** An explicit image (KIND_NODE_IMAGE); otherwise the pinned one for the version. */
  readonly nodeImage?: string;
  readonly featureGates?: Readonly<Record<string, boolean>>;
  readonly ipvs?: IpvsTuning;
  readonly nodePortAddresses?: readonly string[];
}

export interface KindNode {
  role: 'control-plane' | 'worker';
  image: string;
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: typeof KIND_API_VERSION;
  name?: string;
  featureGates?: Record<string, boolean>;
  networking: {
    ipFamily: IpFamilySetting;
    kubeProxyMode: ProxyMode;
    serviceSubnet?: string;
    podSubnet?: string;
  };
  nodes: KindNode[];
  /** YAML strings kind merges into the kubeadm documents it generates. */
  kubeadmConfigPatches?: string[];
}

export interface KindConfigPlan {
  readonly document: KindCluster;
  readonly warnings: string[];
  readonly kubeProxy: KubeProxyPlan;
}

export function planKindConfig(input: KindConfigInput): KindConfigPlan {
  const { version } = input;
  const v = formatKubeVersion(version);
  if (!(KIND_PROXY_MODES as readonly string[]).includes(input.mode)) {
    throw usageError(`kind ${KIND_RELEASE} has no kubeProxyMode ${input.mode}; it accepts ${KIND_PROXY_MODES.join(', ')}`);
  }
  const errors = [
    ...checkFamily('SERVICE_CLUSTER_IP_RANGE (--service-cidr)', input.serviceSubnet, input.ipFamily),
    ...checkFamily('CLUSTER_CIDR (--cluster-cidr)', input.podSubnet, input.ipFamily),
  ];
  if (errors.length > 0) throw planError(`kind cluster (${input.ipFamily})`, errors);

  // NOTE: kubeadm (inside kind) manages hostnameOverride, the kubeconfig and clusterCIDR (from podSubnet).
  const kubeProxy = planKubeProxyConfig({
    version,
    mode: input.mode,
    featureGates: input.featureGates ?? {},
    ...(input.ipvs === undefined ? {} : { ipvs: input.ipvs }),
    ...(input.nodePortAddresses === undefined ? {} : { nodePortAddresses: input.nodePortAddresses }),
  });
  const warnings = [...kubeProxy.warnings];

  let image: string;
  if (input.nodeImage !== undefined && input.nodeImage !== '') {
    image = input.nodeImage;
  } else {
    const pinned = findKindNodeImage(version);
    if (pinned === null) {
      throw usageError(
        `kind ${KIND_RELEASE} pins node images for Kubernetes ${pinnedKindVersions()}; KUBE_VERSION=${v} has none`,
        `set KUBE_VERSION (--k8s-version) to one of those minors, or KIND_NODE_IMAGE (--node-image) to an image built with \`kind build node-image\``,
      );
    }
    image = pinned.image;
    if (pinned.patchNote !== undefined) warnings.push(pinned.patchNote);
  }

  const networking: KindCluster['networking'] = { ipFamily: input.ipFamily, kubeProxyMode: input.mode };
  if (input.serviceSubnet !== undefined) networking.serviceSubnet = input.serviceSubnet;
  if (input.podSubnet !== undefined) networking.podSubnet = input.podSubnet;
  const patch = kubeProxyPatch(kubeProxy);
  const document: KindCluster = {
    kind: 'Cluster',
    apiVersion: KIND_API_VERSION,
    ...(input.clusterName === undefined ? {} : { name: input.clusterName }),
    // kind hands cluster-wide gates to every component, kube-proxy included.
    ...(Object.keys(kubeProxy.featureGates).length === 0 ? {} : { featureGates: { ...kubeProxy.featureGates } }),
    networking,
    nodes: [
      { role: 'control-plane', image },
      ...Array.from({ length: input.workers }, (): KindNode => ({ role: 'worker', image })),
    ],
    ...(patch === null ? {} : { kubeadmConfigPatches: [patch] }),
  };
  return { document, warnings, kubeProxy };
}

/** The KubeProxyConfiguration fields kind has no setting for, as a kubeadm config patch. */
function kubeProxyPatch(plan: KubeProxyPlan): string | null {
  const doc = plan.document;
  if (doc === null) return null;
  const patch: Record<string, unknown> = {};
  if (doc.ipvs !== undefined) patch.ipvs = doc.ipvs;
  if (doc.nodePortAddresses !== undefined) patch.nodePortAddresses = doc.nodePortAddresses;
  if (Object.keys(patch).length === 0) return null;
  // kind matches patches on kind + apiVersion (pkg/internal/patch/kubeyaml.go).
  return YAML.stringify({ apiVersion: KUBE_PROXY_API_VERSION, kind: 'KubeProxyConfiguration', ...patch }, { lineWidth: 0 });
}

function checkFamily(label: string, cidr: string | undefined, family: IpFamilySetting): string[] {
  if (cidr === undefined) return [];
  const { family: got } = parseCidr(cidr);
  if (family === 'dual') {
    return [`${label}=${cidr} is one range, but IP_FAMILY=dual needs an IPv4 and an IPv6 range; leave it unset to get kind's dual-stack defaults, or use IP_FAMILY=ipv${got}`];
  }
  const want = family === 'ipv4' ? 4 : 6;
  return got === want ? [] : [`${label}=${cidr} is an IPv${got} range, but IP_FAMILY=${family}: give an IPv${want} range or set IP_FAMILY=ipv${got}`];
}

/**
 * The kind Cluster for the resolved settings: what `local-up config kind` prints and what `up`
 * passes to kind. The default subnets follow IP_FAMILY for ipv4 and ipv6; a dual-stack cluster
 * needs two ranges each, so with default values they are left to kind.
 */
export function planKindConfigFor(resolved: ResolvedSettings): KindConfigPlan {
  const s = resolved.values;
  const chosen = (key: 'serviceCidr' | 'clusterCidr'): string | undefined =>
    s.ipFamily !== 'dual' || resolved.sources[key].source !== 'default' ? s[key] : undefined;
  const serviceSubnet = chosen('serviceCidr');
  const podSubnet = chosen('clusterCidr');
  return planKindConfig({
    version: s.kubeVersion,
    mode: s.proxyMode,
    clusterName: s.clusterName,
    ipFamily: s.ipFamily,
    ...(serviceSubnet === undefined ? {} : { serviceSubnet }),
    ...(podSubnet === undefined ? {} : { podSubnet }),
    workers: s.kindWorkers,
    nodeImage: s.kindNodeImage,
    featureGates: s.featureGates,
    ipvs: ipvsTuningOf(s),
    nodePortAddresses: s.nodePortAddresses,
  });
}
