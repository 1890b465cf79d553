// waitReady() of the local provider: kube-proxy still healthy, CoreDNS available,
// in IPVS mode the kubernetes and kube-dns virtual servers programmed; then
// local-up-cluster.sh's closing message.
import { ExitCode, LocalUpError, isLocalUpError } from '../../errors.js';
import { isDeploymentAvailable } from '../../kube/kubectl.js';
import { PROC_IP_VS } from '../../ipvs/live.js';
import type { ClusterState } from '../../state/state-file.js';
import { pollUntil } from '../../exec/wait.js';
import type { ProviderContext } from '../provider.js';
import { COREDNS_DEPLOYMENT, DNS_NAMESPACE } from './coredns.js';
import type { LocalDetails } from './details.js';
import { readLocalDetails } from './details.js';
import { Supervisor, readLogTail } from './supervisor.js';
import { missingVirtualServers } from './required-ipvs.js';
import type { LocalProviderDeps, LocalSession } from './session.js';
import { kubectlAt } from './session.js';

const READY_POLL_MS = 1_000;
const HEALTHZ_TIMEOUT_MS = 3_000;

/** local-up-cluster.sh's print_success, for this cluster: configurations, logs, how to use and stop it. */
export function renderClosingMessage(details: LocalDetails, clusterName: string): string[] {
  return [
    `Local Kubernetes cluster "${clusterName}" is running: Kubernetes ${details.version}, kube-proxy in ${details.kubeProxy.mode} mode, node ${details.nodeName}.`,
    'Configurations:',
    ...details.configFiles.map((f) => `  ${f}`),
    `  ${details.layout.certDir} (CA, certificates, keys, component kubeconfigs)`,
    'Logs:',
    ...details.components.map((c) => `  ${c.logFile}`),
    'To use it:',
    `  export KUBECONFIG=${details.layout.kubeconfigOut}`,
    `Stop it with \`local-up down\`: reverse order, then ${details.kubeProxy.cleanupArgv.join(' ')}; etcd's data is ${details.preserveEtcd ? 'kept (PRESERVE_ETCD)' : 'removed'}.`,
  ];
}

/** IPVS mode: polls this host's table until the kubernetes and kube-dns virtual servers are all there. */
async function waitRequiredVirtualServers(ctx: ProviderContext, details: LocalDetails, deps: LocalProviderDeps, supervisor: Supervisor | undefined): Promise<void> {
  let problems: string[] = [];
  const result = await pollUntil(
    async () => {
      if (supervisor?.crashed != null) return { done: true, value: false };
      const table = await deps.readIpvsTable(ctx);
      problems = table === null ? [`${PROC_IP_VS} does not exist: the ip_vs module is not loaded, so kube-proxy programmed nothing`] : missingVirtualServers(table, details.requiredVirtualServers);
      return { done: problems.length === 0, value: problems.length === 0 };
    },
    { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
  );
  await supervisor?.throwIfCrashed('while kube-local-up read the IPVS table');
  if (!result.value) {
    const kubeProxyLog = details.components.find((c) => c.name === 'kube-proxy')?.logFile ?? '';
    const logTail = await readLogTail(kubeProxyLog);
    throw new LocalUpError(ExitCode.failed, `this host's IPVS table lacks what kube-proxy must program within ${ctx.settings.readyTimeout}s (READY_TIMEOUT)`, {
      details: [...problems, '', `last lines of ${kubeProxyLog}:`, logTail].join('\n'),
      hint: 'kube-proxy\'s log says why; `ipvsadm -Ln` shows the table',
    });
  }
  ctx.progress(`IPVS: ${details.requiredVirtualServers.map((v) => `${v.protocol}/${v.address}:${v.port}`).join(', ')} programmed`);
}

/** Provider.waitReady for the local provider. */
export async function waitLocalReady(deps: LocalProviderDeps, ctx: ProviderContext, state: ClusterState, session: LocalSession): Promise<void> {
  const details = readLocalDetails(state.details, 'the state file');
  const supervisor = session.supervisor;
  const kubectl = kubectlAt(ctx, details.layout.adminKubeconfig);
  // kube-proxy must still be healthy (it was when create() returned).
  const healthz = await deps.http.get(details.kubeProxy.healthzUrl, { timeoutMs: HEALTHZ_TIMEOUT_MS });
  if (!healthz.ok || healthz.status !== 200) {
    throw new LocalUpError(ExitCode.failed, `kube-proxy's ${details.kubeProxy.healthzUrl} does not answer 200 (${healthz.ok ? `HTTP ${healthz.status}` : healthz.error})`, { hint: 'see kube-proxy.log in LOG_DIR' });
  }
  if (details.clusterDns) {
    let last = 'the Deployment does not exist yet';
    const result = await pollUntil(
      async () => {
        if (supervisor?.crashed != null) return { done: true, value: false };
        try {
          const deployment = await kubectl.getJson(['-n', DNS_NAMESPACE, 'deployment', COREDNS_DEPLOYMENT], `reading deployment ${DNS_NAMESPACE}/${COREDNS_DEPLOYMENT}`);
          const verdict = deployment === null ? { done: false, message: 'the Deployment does not exist' } : isDeploymentAvailable(deployment);
          last = verdict.message;
          return { done: verdict.done, value: verdict.done };
        } catch (error) {
          if (!isLocalUpError(error) || error.exitCode === ExitCode.interrupted) throw error;
          last = error.message;
          return { done: false, value: false };
        }
      },
      { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
    );
    await supervisor?.throwIfCrashed('while kube-local-up waited for CoreDNS');
    if (!result.value) {
      const logs = await kubectl.logTail(DNS_NAMESPACE, `deploy/${COREDNS_DEPLOYMENT}`, 30);
      throw new LocalUpError(ExitCode.failed, `CoreDNS did not become available within ${ctx.settings.readyTimeout}s (READY_TIMEOUT): ${last}`, {
        details: logs,
        hint: `its image (${ctx.settings.corednsImage}) must be pullable or already in containerd (COREDNS_IMAGE); KUBE_ENABLE_CLUSTER_DNS=false skips it`,
      });
    }
    ctx.progress('CoreDNS is available');
  }
  if (details.requiredVirtualServers.length > 0) await waitRequiredVirtualServers(ctx, details, deps, supervisor);
  for (const line of renderClosingMessage(details, state.clusterName)) ctx.progress(line);
}
