// What migrate-check's rules read from a live cluster besides the nodes: kube-proxy's
// configuration (its kube-system ConfigMap as kubeadm and kind write it, else the
// local provider's kube-proxy.yaml) and its version (the DaemonSet's image, else the
// state file, else the API server's, said so). Shared by `migrate-check` and
// `compare-modes`, which makes the same prediction before it switches kube-proxy.
import { readFileSync } from 'node:fs';
import { parseKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';
import type { Kubectl } from '../kube/kubectl.js';
import { readClusterJson } from '../kube/read.js';
import type { KubeProxySettingsSeen } from '../migrate/kube-proxy-config.js';
import { KubeProxyConfigError, readKubeProxyConfigText } from '../migrate/kube-proxy-config.js';
import type { MigrationInput, NodeFacts, TargetMode } from '../migrate/rules.js';
import type { ClusterState as RecordedCluster } from '../state/state-file.js';

/** kubeadm and kind keep kube-proxy's KubeProxyConfiguration here (key config.conf). */
const KUBE_PROXY_CONFIGMAP = ['configmap', 'kube-proxy', '-n', 'kube-system'] as const;
const KUBE_PROXY_DAEMONSET = ['daemonset', 'kube-proxy', '-n', 'kube-system'] as const;

type ConfigRead = { config: KubeProxySettingsSeen | null; configFrom: string };
type VersionRead = { version: KubeVersion | null; versionFrom: string };

/** The ConfigMap kubeadm and kind write, else the local provider's kube-proxy.yaml; null with the reason when neither. */
async function readProxyConfig(kubectl: Kubectl, state: RecordedCluster | null): Promise<ConfigRead> {
  const tried: string[] = [];
  const configMap = await kubectl.getJson([...KUBE_PROXY_CONFIGMAP], 'reading the kube-proxy ConfigMap');
  if (configMap !== null) {
    const data = (configMap as { data?: Record<string, unknown> }).data ?? {};
    const text = data['config.conf'];
    if (typeof text === 'string') return parsed(text, 'ConfigMap kube-system/kube-proxy, key config.conf');
    tried.push(`ConfigMap kube-system/kube-proxy has no config.conf (keys: ${Object.keys(data).join(', ') || 'none'})`);
  } else tried.push('no ConfigMap kube-system/kube-proxy');
  const file = localConfigFile(state);
  if (file !== null) {
    try {
      return parsed(readFileSync(file, 'utf8'), `the local provider's ${file}`);
    } catch (error) {
      if (error instanceof KubeProxyConfigError) throw error;
      tried.push(`${file}: ${(error as Error).message}`);
    }
  }
  return { config: null, configFrom: tried.join('; ') };
}

function parsed(text: string, from: string): ConfigRead {
  try {
    return { config: readKubeProxyConfigText(text), configFrom: from };
  } catch (error) {
    if (error instanceof KubeProxyConfigError) return { config: null, configFrom: `${from} is not readable: ${error.message}` };
    throw error;
  }
}

function localConfigFile(state: RecordedCluster | null): string | null {
  if (state?.provider !== 'local') return null;
  const kubeProxy = (state.details as { kubeProxy?: { configFile?: unknown } }).kubeProxy;
  return typeof kubeProxy?.configFile === 'string' ? kubeProxy.configFile : null;
}

/** The DaemonSet's image tag, else the state file's version, else the API server's (an assumption, said so). */
async function readProxyVersion(kubectl: Kubectl, state: RecordedCluster | null): Promise<VersionRead> {
  const ds = (await kubectl.getJson([...KUBE_PROXY_DAEMONSET], 'reading the kube-proxy DaemonSet')) as { spec?: { template?: { spec?: { containers?: { image?: unknown }[] } } } } | null;
  const image = ds?.spec?.template?.spec?.containers?.[0]?.image;
  const tag = typeof image === 'string' ? /:(v?\d+\.\d+\.\d+)/.exec(image)?.[1] : undefined;
  const fromTag = tag === undefined ? null : parseKubeVersion(tag);
  if (fromTag !== null) return { version: fromTag, versionFrom: `the kube-proxy DaemonSet's image ${String(image)}` };
  const fromState = state === null ? null : parseKubeVersion(state.kubeVersion);
  if (fromState !== null) return { version: fromState, versionFrom: 'the state file of the cluster up made' };
  const result = await kubectl.run(['version', '-o', 'json']);
  let server: unknown;
  try {
    server = result.exitCode === 0 ? (JSON.parse(result.stdout) as { serverVersion?: { gitVersion?: unknown } }).serverVersion?.gitVersion : undefined;
  } catch {
    server = undefined;
  }
  const fromServer = typeof server === 'string' ? parseKubeVersion(server.replace(/[-+].*$/, '')) : null;
  if (fromServer !== null) return { version: fromServer, versionFrom: `assumed equal to the API server's ${String(server)} (no kube-proxy DaemonSet)` };
  return { version: null, versionFrom: 'no kube-proxy DaemonSet, no state file, and the API server did not say its version' };
}

/** Everything checkMigration takes, with the nodes already read. */
export async function readMigrationInput(kubectl: Kubectl, state: RecordedCluster | null, target: TargetMode, nodes: readonly NodeFacts[]): Promise<MigrationInput> {
  const cluster = readClusterJson(await kubectl.clusterJson(), 'kubectl get services,endpointslices -A -o json');
  const config = await readProxyConfig(kubectl, state);
  const version = await readProxyVersion(kubectl, state);
  return { target, cluster, nodes, kubeProxy: { ...version, ...config } };
}
