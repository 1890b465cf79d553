// The ordered plan `up` follows for a provider and mode, as data: `up --dry-run`
// prints it, and `up` runs the same steps.
import { formatKubeVersion } from '../config/kube-version.js';
import type { Settings } from '../config/settings.js';
import { ipvsModuleNames } from '../kernel/modules.js';

export type PlanPhase = 'preflight' | 'modules' | 'cluster' | 'kube-proxy' | 'assertions' | 'summary';

export interface PlanStep {
  readonly phase: PlanPhase;
  readonly title: string;
  /** What the step will do, precisely enough to check before anything runs. */
  readonly details: readonly string[];
}

export interface UpPlan {
  readonly provider: Settings['provider'];
  readonly mode: Settings['proxyMode'];
  readonly kubeVersion: string;
  readonly steps: readonly PlanStep[];
}

/**
 * @param providerCreate the provider's own account of its create step (Provider.describeCreate:
 * the exact command line and generated config); a generic description when absent.
 */
export function planUp(settings: Settings, providerCreate?: readonly string[]): UpPlan {
  const ipvs = settings.proxyMode === 'ipvs';
  const v = formatKubeVersion(settings.kubeVersion);
  const steps: PlanStep[] = [];

  steps.push({
    phase: 'preflight',
    title: 'Preflight checks',
    details: [
      `doctor's checks for provider ${settings.provider}${ipvs ? ', including every kernel. check (IPVS must work on this kernel)' : ' (kernel IPVS checks are informational outside ipvs mode)'}`,
      `settings: KUBE_PROXY_MODE=${settings.proxyMode}, KUBE_VERSION=${v}, CLUSTER_NAME=${settings.clusterName}`,
    ],
  });
  if (ipvs) {
    steps.push({
      phase: 'modules',
      title: 'Load the IPVS kernel modules on this host',
      details: [
        `${ipvsModuleNames(settings.scheduler).join(', ')}, and nf_conntrack (nf_conntrack_ipv4 before Linux 4.19), as \`local-up modules load\` does`,
        settings.provider === 'kind' ? 'kind nodes are containers that share this kernel, so the modules must be loaded here' : 'kube-proxy runs on this host and uses this kernel',
      ],
    });
  }
  if (settings.provider === 'kind') {
    steps.push({
      phase: 'cluster',
      title: `Create the kind cluster "${settings.clusterName}"`,
      details: [
        ...(providerCreate ?? [`kind create cluster --name ${settings.clusterName} --kubeconfig ${settings.kubeconfigOut} --config <generated>`]),
        `1 control-plane node and ${settings.kindWorkers} worker(s), Kubernetes ${v}, networking.kubeProxyMode: ${settings.proxyMode}`,
        `service subnet ${settings.serviceCidr}, pod subnet ${settings.clusterCidr}, IP family ${settings.ipFamily}`,
      ],
    });
  } else {
    steps.push({
      phase: 'cluster',
      title: 'Start the control plane and kubelet as host processes',
      details: providerCreate ?? [
        'etcd → kube-apiserver → kube-controller-manager → kube-scheduler → kubelet on containerd, each waiting for real readiness',
        `service range ${settings.serviceCidr}, logs in ${settings.logDir}`,
      ],
    });
  }
  steps.push({
    phase: 'kube-proxy',
    title: `Start kube-proxy in ${settings.proxyMode} mode and prove the mode`,
    details: [
      settings.provider === 'kind' ? 'wait for the kube-proxy DaemonSet rollout and CoreDNS' : 'start kube-proxy with the generated KubeProxyConfiguration; wait for /healthz on 10256',
      `kube-proxy's /proxyMode (port 10249) must answer "${settings.proxyMode}" on every node`,
      ...(ipvs ? [`ipvs: scheduler ${settings.scheduler}, strictARP ${settings.strictArp}`] : []),
    ],
  });
  steps.push({
    phase: 'assertions',
    title: ipvs ? 'Assert the IPVS table on every node' : 'IPVS assertions',
    details: ipvs
      ? ['read /proc/net/ip_vs and the kube-ipvs0 addresses on every node', 'compare them with what kube-proxy must program for every Service and EndpointSlice; any difference fails `up`']
      : [`skipped: KUBE_PROXY_MODE=${settings.proxyMode}`],
  });
  steps.push({
    phase: 'summary',
    title: 'Summary',
    details: [`kubeconfig ${settings.kubeconfigOut} (export KUBECONFIG=${settings.kubeconfigOut})`, `logs in ${settings.logDir}`, 'tear down with: npm run down'],
  });
  return { provider: settings.provider, mode: settings.proxyMode, kubeVersion: v, steps };
}

export function renderPlan(plan: UpPlan): string {
  const lines = [`Plan for \`up\`: provider ${plan.provider}, KUBE_PROXY_MODE=${plan.mode}, Kubernetes ${plan.kubeVersion}`, ''];
  plan.steps.forEach((step, i) => {
    lines.push(`${i + 1}. [${step.phase}] ${step.title}`);
    for (const detail of step.details) lines.push(`     ${detail}`);
  });
  lines.push('', 'Dry run: nothing was started, loaded or written.');
  return `${lines.join('\n')}\n`;
}
