// Plans `kubeadm init --config` documents that run kube-proxy in the requested
// mode, in the kubeadm API the Kubernetes version speaks: one v1alpha1/v1alpha2
// MasterConfiguration with kube-proxy embedded (1.8-1.11), or Init- and
// ClusterConfiguration plus a separate KubeProxyConfiguration (1.12 on).
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';
import type { ProxyMode } from '../config/settings.js';
import { usageError } from '../errors.js';
import type { IpvsTuning, KubeProxyConfiguration, KubeProxyPlan } from './config.js';
import { planKubeProxyConfig } from './config.js';
import type { BoundaryId } from './versions.js';
import { reached, since } from './versions.js';

export const KUBEADM_GROUP = 'kubeadm.k8s.io';

/** Newest first: the API version kubeadm of each era writes (see BOUNDARIES for sources). */
const KUBEADM_APIS: readonly { readonly boundary: BoundaryId; readonly version: string }[] = [
  { boundary: 'kubeadmV1beta4', version: 'v1beta4' },
  { boundary: 'kubeadmV1beta3', version: 'v1beta3' },
  { boundary: 'kubeadmV1beta2', version: 'v1beta2' },
  { boundary: 'kubeadmV1beta1', version: 'v1beta1' },
  { boundary: 'kubeadmV1alpha3', version: 'v1alpha3' },
  { boundary: 'kubeadmV1alpha2', version: 'v1alpha2' },
  { boundary: 'kubeadmOldest', version: 'v1alpha1' },
];

/** "kubeadm.k8s.io/v1beta4" for 1.31+, ...; null before the oldest kubeadm kube-local-up writes for. */
export function kubeadmApiVersion(version: KubeVersion): string | null {
  const api = KUBEADM_APIS.find((a) => reached(version, a.boundary));
  return api === undefined ? null : `${KUBEADM_GROUP}/${api.version}`;
}

export interface KubeadmConfigInput {
  readonly version: KubeVersion;
  readonly mode: ProxyMode;
  readonly serviceSubnet?: string;
  readonly podSubnet?: string;
  readonly featureGates?: Readonly<Record<string, boolean>>;
  readonly ipvs?: IpvsTuning;
  readonly nodePortAddresses?: readonly string[];
}

export interface KubeadmConfigPlan {
  readonly apiVersion: string;
  /** The YAML documents, in order. */
  readonly documents: Record<string, unknown>[];
  readonly warnings: string[];
  readonly kubeProxy: KubeProxyPlan;
}

export function planKubeadmConfig(input: KubeadmConfigInput): KubeadmConfigPlan {
  const { version, mode } = input;
  const v = formatKubeVersion(version);
  const apiVersion = kubeadmApiVersion(version);
  if (apiVersion === null) {
    throw usageError(
      `kube-local-up writes kubeadm configuration for Kubernetes ${since('kubeadmOldest')} and later; KUBE_VERSION=${v}`,
      `set KUBE_VERSION (--k8s-version) to ${since('kubeadmOldest')} or later`,
    );
  }
  const canConfigureProxy = reached(version, 'kubeadmKubeProxyConfig');
  if (!canConfigureProxy && mode !== 'iptables') {
    throw usageError(
      `kubeadm ${v} cannot configure kube-proxy (its MasterConfiguration has no kubeProxy.config before ${since('kubeadmKubeProxyConfig')}), so it cannot set KUBE_PROXY_MODE=${mode}`,
      `set KUBE_VERSION (--k8s-version) to ${since('kubeadmKubeProxyConfig')} or later, or edit the kube-proxy DaemonSet after \`kubeadm init\` using \`local-up config kube-proxy --k8s-version ${v} --mode ${mode} --flags\``,
    );
  }

  // NOTE: kubeadm manages hostnameOverride and the kubeconfig; clusterCIDR repeats podSubnet for clarity.
  const kubeProxy = planKubeProxyConfig({
    version,
    mode,
    featureGates: input.featureGates ?? {},
    ...(input.podSubnet === undefined ? {} : { clusterCidr: input.podSubnet }),
    ...(input.ipvs === undefined ? {} : { ipvs: input.ipvs }),
    ...(input.nodePortAddresses === undefined ? {} : { nodePortAddresses: input.nodePortAddresses }),
  });
  const warnings = [...kubeProxy.warnings];
  if (Object.keys(input.featureGates ?? {}).length > 0) {
    warnings.push(canConfigureProxy
      ? 'FEATURE_GATES reach kube-proxy only: kubeadm\'s own featureGates field is for kubeadm gates; add control-plane gates as feature-gates extra args of the apiserver, controller-manager and scheduler'
      : `FEATURE_GATES are left out: kubeadm ${v} cannot configure kube-proxy`);
  }

  const kubernetesVersion = version.patch === null ? `stable-${version.major}.${version.minor}` : `v${v}`;
  if (version.patch === null) {
    warnings.push(`KUBE_VERSION=${v} has no patch release: kubeadm resolves kubernetesVersion ${kubernetesVersion} over the network; give a full version such as ${v}.0 to pin it`);
  }
  const networking: Record<string, string> = {};
  if (input.serviceSubnet !== undefined) networking.serviceSubnet = input.serviceSubnet;
  if (input.podSubnet !== undefined) networking.podSubnet = input.podSubnet;
  const proxyDoc = kubeProxy.document as KubeProxyConfiguration; // every kubeadm release here is past 1.7

  let documents: Record<string, unknown>[];
  if (!reached(version, 'kubeadmV1alpha3')) {
    const master: Record<string, unknown> = { apiVersion, kind: 'MasterConfiguration', kubernetesVersion };
    if (Object.keys(networking).length > 0) master.networking = networking;
    if (canConfigureProxy) {
      // The embedded config carries no apiVersion/kind of its own (kubeadm v1alpha1 KubeProxy.Config).
      const { apiVersion: _a, kind: _k, ...config } = proxyDoc;
      master.kubeProxy = { config };
    }
    documents = [master];
  } else {
    const cluster: Record<string, unknown> = { apiVersion, kind: 'ClusterConfiguration', kubernetesVersion };
    if (Object.keys(networking).length > 0) cluster.networking = networking;
    documents = [{ apiVersion, kind: 'InitConfiguration' }, cluster, { ...proxyDoc }];
  }
  return { apiVersion, documents, warnings, kubeProxy };
}
