// The ordered steps of `up` for a provider and mode, as data: `up` runs exactly
// these (src/steps/up.ts gives each id its action) and `up --dry-run` prints them.
import { formatKubeVersion } from '../config/kube-version.js';
import type { Settings } from '../config/settings.js';
import { ipvsModuleNames } from '../kernel/modules.js';

/** One id per action of `up`; src/steps/up.ts maps each to what it runs. */
export type UpStepId = 'preflight' | 'modules' | 'create' | 'wait' | 'prove-mode' | 'assert';

export interface PlanStep {
  readonly id: UpStepId;
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
 * The steps `up` runs, in order. Steps that do not apply to the mode are left out (not skipped), so
 * the list is exactly what runs; only a reused cluster (--reuse, known at run time) skips `create`.
 * @param providerCreate the provider's own account of its create step (Provider.describeCreate:
 * the exact command line and generated config); a generic description when absent.
 */
export function planUp(settings: Settings, providerCreate?: readonly string[]): UpPlan {
  const ipvs = settings.proxyMode === 'ipvs';
  const kind = settings.provider === 'kind';
  const v = formatKubeVersion(settings.kubeVersion);
  const steps: PlanStep[] = [];

  steps.push({
    id: 'preflight',
    title: `Preflight (${settings.provider}, KUBE_PROXY_MODE=${settings.proxyMode})`,
    details: [
      `settings: KUBE_PROXY_MODE=${settings.proxyMode}, KUBE_VERSION=${v}, CLUSTER_NAME=${settings.clusterName}`,
      ipvs ? "doctor's mode and kernel checks: every one must pass (IPVS must work on this kernel)" : "doctor's mode checks (kernel IPVS checks are informational outside ipvs mode)",
      `the ${settings.provider} provider's checks (${kind ? `container engine, kubectl, kind: installed into TOOLS_DIR when missing (KIND_AUTO_INSTALL=${settings.kindAutoInstall})` : 'binaries and their versions, containerd, CNI, ports, privileges'})`,
      `an existing cluster named "${settings.clusterName}" is an error unless --reuse`,
    ],
  });
  if (ipvs) {
    steps.push({
      id: 'modules',
      title: 'Load the IPVS kernel modules on this host',
      details: [
        `${ipvsModuleNames(settings.scheduler).join(', ')}, and nf_conntrack (nf_conntrack_ipv4 before Linux 4.19), as \`local-up modules load\` does`,
        kind ? 'kind nodes are containers that share this kernel, so the modules must be loaded here' : 'kube-proxy runs on this host and uses this kernel',
      ],
    });
  }
  steps.push({
    id: 'create',
    title: `Create the ${settings.provider} cluster "${settings.clusterName}"`,
    details: kind
      ? [
          ...(providerCreate ?? [`kind create cluster --name ${settings.clusterName} --kubeconfig ${settings.kubeconfigOut} --config <generated>`]),
          `1 control-plane node and ${settings.kindWorkers} worker(s), Kubernetes ${v}, networking.kubeProxyMode: ${settings.proxyMode}`,
          `service subnet ${settings.serviceCidr}, pod subnet ${settings.clusterCidr}, IP family ${settings.ipFamily}`,
        ]
      : (providerCreate ?? [
          'etcd → kube-apiserver → kube-controller-manager → kube-scheduler → kubelet → kube-proxy on containerd, each waiting for real readiness (kube-proxy: /healthz)',
          `service range ${settings.serviceCidr}, logs in ${settings.logDir}`,
        ]),
  });
  steps.push({
    id: 'wait',
    title: 'Wait for kube-proxy on every node and CoreDNS',
    details: [
      kind
        ? `the kube-proxy DaemonSet rolled out and the CoreDNS Deployment available (READY_TIMEOUT=${settings.readyTimeout}s)`
        : `kube-proxy's /healthz still answers, CoreDNS available${ipvs ? ", and this host's IPVS table holds the kubernetes and kube-dns virtual servers" : ''} (READY_TIMEOUT=${settings.readyTimeout}s)`,
    ],
  });
  steps.push({
    id: 'prove-mode',
    title: `Prove kube-proxy runs in ${settings.proxyMode} mode on every node`,
    details: [
      `the configured mode (${kind ? 'ConfigMap kube-system/kube-proxy' : "kube-proxy's configuration file"}) and kube-proxy's /proxyMode (port ${kind ? 10249 : settings.kubeProxyMetricsPort}) on every node must say "${settings.proxyMode}"`,
      ...(ipvs ? [`ipvs: scheduler ${settings.scheduler}, strictARP ${settings.strictArp}`] : []),
    ],
  });
  if (ipvs) {
    steps.push({
      id: 'assert',
      title: 'Assert the IPVS table on every node',
      details: ['read /proc/net/ip_vs and the kube-ipvs0 addresses on every node', 'compare them with what kube-proxy must program for every Service and EndpointSlice; any difference fails `up`'],
    });
  }
  return { provider: settings.provider, mode: settings.proxyMode, kubeVersion: v, steps };
}

export function renderPlan(plan: UpPlan, settings: Pick<Settings, 'kubeconfigOut' | 'logDir'>): string {
  const lines = [`Plan for \`up\`: provider ${plan.provider}, KUBE_PROXY_MODE=${plan.mode}, Kubernetes ${plan.kubeVersion}`, ''];
  plan.steps.forEach((step, i) => {
    lines.push(`${i + 1}. ${step.title}`);
    for (const detail of step.details) lines.push(`     ${detail}`);
  });
  if (plan.mode !== 'ipvs') lines.push('', `No IPVS module loading or IPVS assertions: KUBE_PROXY_MODE=${plan.mode}.`);
  lines.push(
    '',
    `Then up prints the kubeconfig (export KUBECONFIG=${settings.kubeconfigOut}), the mode per node, the logs (${settings.logDir}) and how to tear down.`,
    'Dry run: nothing was started, loaded or written.',
  );
  return `${lines.join('\n')}\n`;
}
