// Stopping a local cluster, what local-up-cluster.sh's cleanup() does plus what
// it leaves out: CoreDNS is removed while the kubelet can still stop its pods;
// kube-proxy stops first and `kube-proxy --cleanup` runs with the same config;
// the host is then checked for any kube-proxy state left (IPVS, kube-ipvs0,
// ipsets, iptables, nftables); the rest stops in reverse start order; etcd's data
// goes unless PRESERVE_ETCD.
import { rm } from 'node:fs/promises';
import type { Host } from '../../exec/host.js';
import type { Runner } from '../../exec/runner.js';
import { describeFailure, tail } from '../../exec/runner.js';
import type { Kubectl } from '../../kube/kubectl.js';
import { readPodList } from '../../kube/kubectl.js';
import { COREDNS_DEPLOYMENT, DNS_NAMESPACE } from './coredns.js';
import type { LocalDetails } from './details.js';
import type { LeftoverReport } from './host-state.js';
import { findLeftovers, readHostNetworkState } from './host-state.js';
import type { ProcessControl, ProcessRecord } from './process.js';
import type { StopOutcome } from './supervisor.js';
import { describeStop, stopRecorded } from './supervisor.js';

/** kube-proxy --cleanup flushes IPVS, deletes kube-ipvs0 and walks iptables for both families. */
export const KUBE_PROXY_CLEANUP_TIMEOUT_MS = 60_000;
/**
 * How long CoreDNS's pods get to go before the kubelet stops (best effort). Short: after Ctrl-C the
 * whole stop must fit the CLI's grace period (15 s in src/cli/main.ts).
 */
const DNS_REMOVAL_BUDGET_MS = 5_000;
const DNS_POLL_MS = 500;

export interface TeardownDeps {
  readonly control: ProcessControl;
  /** Runs kube-proxy --cleanup (its argv already carries sudo when needed). */
  readonly runner: Runner;
  /** The CLI's environment, given to kube-proxy --cleanup. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the host's network state is read after cleanup (root: this machine; else through sudo). */
  readonly host: Host;
  /** For removing CoreDNS first; null skips it (no kubectl, or the API server is gone). */
  readonly kubectl: Kubectl | null;
  readonly log: (line: string) => void;
  readonly progress: (line: string) => void;
}

export interface CleanupRun {
  readonly command: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface TeardownReport {
  readonly stops: readonly StopOutcome[];
  readonly dnsRemoval: string | null;
  readonly cleanup: CleanupRun | null;
  readonly leftovers: LeftoverReport | null;
  readonly etcdData: 'removed' | 'kept' | 'not-found';
  /** Every component was stopped (or already gone) and no kube-proxy state is left. */
  readonly ok: boolean;
}

/** Records in reverse start order: what stops first comes first. */
export function stopOrder(components: readonly ProcessRecord[]): ProcessRecord[] {
  return [...components].reverse();
}

async function removeClusterDns(kubectl: Kubectl, log: (line: string) => void): Promise<string> {
  const deleted = await kubectl.run(['-n', DNS_NAMESPACE, 'delete', 'deployment', COREDNS_DEPLOYMENT, '--ignore-not-found', '--wait=false']);
  if (deleted.exitCode !== 0) return `could not delete the CoreDNS Deployment (${describeFailure(deleted)}); its pods may stay in the container runtime`;
  // CoreDNS's own grace (lameduck 5s, 30s termination grace) would outlast the budget: ask for 1s.
  await kubectl.run(['-n', DNS_NAMESPACE, 'delete', 'pods', '-l', 'k8s-app=kube-dns', '--grace-period=1', '--ignore-not-found', '--wait=false']);
  const deadline = Date.now() + DNS_REMOVAL_BUDGET_MS;
  for (;;) {
    const listed = await kubectl.run(['-n', DNS_NAMESPACE, 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'json']);
    if (listed.exitCode === 0) {
      let pods: ReturnType<typeof readPodList> = [];
      try {
        pods = readPodList(JSON.parse(listed.stdout));
      } catch {
        pods = [];
      }
      if (pods.length === 0) return 'CoreDNS removed';
      if (Date.now() >= deadline) {
        log(`CoreDNS pods still there: ${pods.map((p) => p.name).join(', ')}`);
        return `CoreDNS pods did not go within ${DNS_REMOVAL_BUDGET_MS / 1000}s (${pods.map((p) => p.name).join(', ')}); their containers may stay in the container runtime (crictl rmp -fa removes them)`;
      }
    } else if (Date.now() >= deadline) {
      return `could not list the CoreDNS pods (${describeFailure(listed)})`;
    }
    await new Promise((resolve) => setTimeout(resolve, DNS_POLL_MS));
  }
}

/** Runs `kube-proxy --cleanup` with the cluster's config; never aborted (it is the cleanup). */
export async function runKubeProxyCleanup(runner: Runner, argv: readonly string[], env?: Readonly<Record<string, string | undefined>>): Promise<CleanupRun> {
  const [file, ...args] = argv;
  if (file === undefined) return { command: '', ok: false, detail: 'no kube-proxy command recorded' };
  const result = await runner.run(file, args, { timeoutMs: KUBE_PROXY_CLEANUP_TIMEOUT_MS, ...(env === undefined ? {} : { env }) });
  const output = tail(`${result.stdout}\n${result.stderr}`.trim(), 15);
  return result.exitCode === 0
    ? { command: result.command, ok: true, detail: output }
    : { command: result.command, ok: false, detail: `${describeFailure(result, KUBE_PROXY_CLEANUP_TIMEOUT_MS)}${output === '' ? '' : `\n${output}`}` };
}

export async function teardownLocal(details: LocalDetails, deps: TeardownDeps): Promise<TeardownReport> {
  const stops: StopOutcome[] = [];
  const byName = new Map(details.components.map((c) => [c.name, c]));
  let dnsRemoval: string | null = null;
  if (details.clusterDns && deps.kubectl !== null && byName.has('kubelet') && byName.has('kube-apiserver')) {
    deps.progress('removing CoreDNS while the kubelet can still stop its pods');
    dnsRemoval = await removeClusterDns(deps.kubectl, deps.log);
    deps.log(dnsRemoval);
  }

  let cleanup: CleanupRun | null = null;
  let leftovers: LeftoverReport | null = null;
  const order = stopOrder(details.components);
  for (const record of order) {
    const outcome = await stopRecorded(deps.control, record);
    stops.push(outcome);
    deps.log(describeStop(outcome));
    deps.progress(describeStop(outcome));
    if (record.name === 'kube-proxy') {
      deps.progress(`running ${details.kubeProxy.cleanupArgv.join(' ')}`);
      cleanup = await runKubeProxyCleanup(deps.runner, details.kubeProxy.cleanupArgv, deps.env);
      deps.log(`kube-proxy --cleanup: ${cleanup.ok ? 'ok' : 'failed'}: ${cleanup.detail}`);
      leftovers = findLeftovers(await readHostNetworkState(deps.host), { serviceCidr: details.serviceCidr });
    }
  }

  let etcdData: TeardownReport['etcdData'] = 'kept';
  if (!details.preserveEtcd) {
    const existed = await rm(details.layout.etcdDir, { recursive: true, force: false }).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    etcdData = existed ? 'removed' : 'not-found';
  }
  const stopped = stops.every((s) => s.result !== 'left');
  return { stops, dnsRemoval, cleanup, leftovers, etcdData, ok: stopped && (cleanup === null || cleanup.ok) && (leftovers === null || leftovers.clean) };
}
