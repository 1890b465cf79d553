// What the state file records for a local cluster (ClusterState.details), and
// its validation when read back by a later `down`, `status` or `logs`.
import { usageError } from '../../errors.js';
import type { LocalLayout, LocalPlan } from './plan.js';
import type { ProcessRecord } from './process.js';
import type { RequiredVirtualServer } from './required-ipvs.js';

export interface LocalDetails {
  readonly kind: 'local';
  /** The Kubernetes version the binaries report. */
  readonly version: string;
  readonly nodeName: string;
  readonly serviceCidr: string;
  readonly layout: LocalLayout;
  /** Started components in start order (pids, process groups, start times, command lines). */
  readonly components: readonly ProcessRecord[];
  /** As planned (LocalPlan.kubeProxy), minus the port; cleanupArgv includes sudo when needed. */
  readonly kubeProxy: Omit<LocalPlan['kubeProxy'], 'metricsPort'>;
  readonly clusterDns: boolean;
  readonly preserveEtcd: boolean;
  /** Components run through `sudo -n` (this user is not root). */
  readonly sudo: boolean;
  /** Config files written for the components (listed in the closing message). */
  readonly configFiles: readonly string[];
  /** IPVS mode: the virtual servers this host must have (kubernetes and kube-dns Services). */
  readonly requiredVirtualServers: readonly RequiredVirtualServer[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function readRecord(value: unknown, where: string): ProcessRecord {
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  const { name, pid, pgid, startTicks, argv, logFile } = value;
  if (typeof name !== 'string' || !Number.isInteger(pid) || !Number.isInteger(pgid) || !(startTicks === null || Number.isInteger(startTicks)) || !isStringArray(argv) || typeof logFile !== 'string') {
    throw new Error(`${where} lacks name, pid, pgid, startTicks, argv or logFile`);
  }
  return { name, pid: pid as number, pgid: pgid as number, startTicks: startTicks as number | null, argv, logFile };
}

function readRequired(value: unknown, where: string): RequiredVirtualServer {
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  const { protocol, address, port, realPort, service } = value;
  if ((protocol !== 'TCP' && protocol !== 'UDP') || typeof address !== 'string' || !Number.isInteger(port) || !(realPort === null || Number.isInteger(realPort)) || typeof service !== 'string') {
    throw new Error(`${where} lacks protocol, address, port, realPort or service`);
  }
  return { protocol, address, port: port as number, realPort: realPort as number | null, service };
}

/** The details of a state file written by the local provider; a usage error names what is wrong. */
export function readLocalDetails(details: Readonly<Record<string, unknown>>, stateFile: string): LocalDetails {
  try {
    if (details.kind !== 'local') throw new Error('it was not written by the local provider');
    const layout = details.layout;
    const kubeProxy = details.kubeProxy;
    if (!isObject(layout) || !['clusterDir', 'configDir', 'certDir', 'etcdDir', 'logDir', 'kubeconfigOut', 'adminKubeconfig'].every((k) => typeof layout[k] === 'string')) throw new Error('layout is incomplete');
    if (!isObject(kubeProxy) || typeof kubeProxy.configFile !== 'string' || !isStringArray(kubeProxy.cleanupArgv)) throw new Error('kubeProxy is incomplete');
    if (!Array.isArray(details.components)) throw new Error('components is not a list');
    const components = details.components.map((c, i) => readRecord(c, `components[${i}]`));
    return {
      kind: 'local',
      version: String(details.version ?? ''),
      nodeName: String(details.nodeName ?? ''),
      serviceCidr: String(details.serviceCidr ?? ''),
      layout: layout as unknown as LocalLayout,
      components,
      kubeProxy: {
        configFile: kubeProxy.configFile,
        mode: String(kubeProxy.mode ?? ''),
        cleanupArgv: kubeProxy.cleanupArgv,
        healthzUrl: String(kubeProxy.healthzUrl ?? ''),
        proxyModeUrl: String(kubeProxy.proxyModeUrl ?? ''),
      },
      clusterDns: details.clusterDns === true,
      preserveEtcd: details.preserveEtcd === true,
      sudo: details.sudo === true,
      configFiles: isStringArray(details.configFiles) ? details.configFiles : [],
      requiredVirtualServers: Array.isArray(details.requiredVirtualServers) ? details.requiredVirtualServers.map((v, i) => readRequired(v, `requiredVirtualServers[${i}]`)) : [],
    };
  } catch (error) {
    throw usageError(`${stateFile} does not describe a local cluster: ${(error as Error).message}`, 'if the cluster is gone, delete the state file; stray processes can be found with: pgrep -af kube-');
  }
}
