// Stopping a local cluster, what local-up-cluster.sh's cleanup() does plus what
// it leaves out: the node's pods (CoreDNS's, smoke's) are removed while the kubelet can still stop them;
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
import type { RemovalOutcome } from './leftover-removal.js';
import { planLeftoverRemoval, runLeftoverRemoval } from './leftover-removal.js';
import type { ProcessControl, ProcessRecord } from './process.js';
import type { StopOutcome } from './supervisor.js';
import { describeStop, stopRecorded } from './supervisor.js';

/**
 * kube-proxy --cleanup flushes IPVS, deletes kube-ipvs0 and walks iptables for both families: the
 * iptables, IPVS and nftables proxiers' cleanups, some 60 iptables calls. In the lab (software
 * emulation) each call took 1-2 s, and 60 s cut the cleanup off half-way (seen with v1.34.11).
 */
export const KUBE_PROXY_CLEANUP_TIMEOUT_MS = 300_000;
/**
 * How long the node's pods get to go, stopped by the kubelet, before the kubelet itself stops.
 * Not short: on a slow (emulated) machine the kubelet needs tens of seconds to stop a pod, and
 * a pod it did not stop keeps running in containerd after the cluster is gone (its shim, pause
 * and app processes). The CLI's grace after Ctrl-C (src/cli/main.ts) covers it.
 */
export const POD_REMOVAL_BUDGET_MS = 120_000;
const POD_POLL_MS = 1_000;

export interface TeardownDeps {
  readonly control: ProcessControl;
  /** How long the node's pods get before the kubelet stops (default POD_REMOVAL_BUDGET_MS). */
  readonly podRemovalBudgetMs?: number;
  /** Runs kube-proxy --cleanup (its argv already carries sudo when needed). */
  readonly runner: Runner;
  /** The CLI's environment, given to kube-proxy --cleanup. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the host's network state is read after cleanup (root: this machine; else through sudo). */
  readonly host: Host;
  /** For removing the node's pods first; null skips it (no kubectl, or the API server is gone). */
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
  /** What became of the node's pods (CoreDNS included) before the kubelet stopped; null: not tried. */
  readonly podRemoval: string | null;
  readonly cleanup: CleanupRun | null;
  /** What kube-proxy --cleanup left and local-up then removed itself (null: nothing was left). */
  readonly removal: RemovalOutcome[] | null;
  /** The host after cleanup (and after the removal, when one ran). */
  readonly leftovers: LeftoverReport | null;
  readonly etcdData: 'removed' | 'kept' | 'not-found';
  /** Every component was stopped (or already gone) and no kube-proxy state is left. */
  readonly ok: boolean;
}

/** Records in reverse start order: what stops first comes first. */
export function stopOrder(components: readonly ProcessRecord[]): ProcessRecord[] {
  return [...components].reverse();
}

interface NodePod {
  readonly namespace: string;
  readonly name: string;
}

/** The pods bound to `nodeName` in `kubectl get pods -A -o json` output. */
export function podsOnNode(list: unknown, nodeName: string): NodePod[] {
  const items = typeof list === 'object' && list !== null && Array.isArray((list as { items?: unknown }).items) ? (list as { items: unknown[] }).items : [];
  return readPodList(list)
    .map((pod, i) => ({ pod, namespace: String((items[i] as { metadata?: { namespace?: unknown } }).metadata?.namespace ?? '') }))
    .filter(({ pod }) => pod.nodeName === nodeName)
    .map(({ pod, namespace }) => ({ namespace, name: pod.name }));
}

/**
 * Has the kubelet stop every pod on the node while it still runs: CoreDNS's Deployment is deleted
 * (else it would bring its pods back), then every pod bound to the node (CoreDNS, a smoke namespace
 * still terminating, the user's own) is deleted with a 1 s grace, again each poll (a ReplicaSet may
 * recreate one before it is gone; the scheduler is already stopped, so a new one is never bound),
 * until the node has none. local-up-cluster.sh leaves them to the container runtime.
 */
async function removeNodePods(kubectl: Kubectl, nodeName: string, clusterDns: boolean, budgetMs: number, log: (line: string) => void): Promise<string> {
  if (clusterDns) {
    const deleted = await kubectl.run(['-n', DNS_NAMESPACE, 'delete', 'deployment', COREDNS_DEPLOYMENT, '--ignore-not-found', '--wait=false']);
    if (deleted.exitCode !== 0) log(`could not delete the CoreDNS Deployment (${describeFailure(deleted)})`);
  }
  const deadline = Date.now() + budgetMs;
  let last: NodePod[] | null = null;
  let listError = '';
  for (;;) {
    const listed = await kubectl.run(['get', 'pods', '-A', '-o', 'json']);
    if (listed.exitCode === 0) {
      try {
        last = podsOnNode(JSON.parse(listed.stdout), nodeName);
      } catch (error) {
        listError = `kubectl printed something that is not JSON (${(error as Error).message})`;
      }
      if (last !== null && last.length === 0) return `no pods left on node ${nodeName}`;
      for (const namespace of new Set((last ?? []).map((p) => p.namespace))) {
        const names = (last ?? []).filter((p) => p.namespace === namespace).map((p) => p.name);
        await kubectl.run(['-n', namespace, 'delete', 'pods', ...names, '--grace-period=1', '--ignore-not-found', '--wait=false']);
      }
    } else {
      listError = `${describeFailure(listed)}: ${tail(listed.stderr, 2).trim()}`;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POD_POLL_MS));
  }
  if (last === null) return `could not list the pods on node ${nodeName} (${listError}); their containers may stay in the container runtime`;
  const left = last.map((p) => `${p.namespace}/${p.name}`);
  log(`pods still on node ${nodeName}: ${left.join(', ')}`);
  return `${left.length} pod(s) did not go from node ${nodeName} within ${Math.round(budgetMs / 1000)}s (${left.join(', ')}); their containers may stay in the container runtime (crictl rmp -fa removes them)`;
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

/**
 * Reads the host after `kube-proxy --cleanup`; when kube-proxy's state is still there, removes
 * exactly that (planLeftoverRemoval) and reads the host again.
 */
export async function removeWhatCleanupLeft(host: Host, serviceCidr: string, log: (line: string) => void, progress: (line: string) => void): Promise<{ removal: RemovalOutcome[] | null; leftovers: LeftoverReport }> {
  const state = await readHostNetworkState(host);
  const first = findLeftovers(state, { serviceCidr });
  if (first.clean) return { removal: null, leftovers: first };
  const commands = planLeftoverRemoval(state, first);
  progress(`kube-proxy --cleanup left ${first.leftovers.filter((l) => l.owner === 'kube-proxy').length} piece(s) of its state; removing them (${commands.length} command(s))`);
  const removal = await runLeftoverRemoval(host, commands);
  for (const o of removal) log(o.ok ? `removed ${o.what} (${o.command})` : `could not remove ${o.what}: ${o.command}: ${o.detail}`);
  return { removal, leftovers: findLeftovers(await readHostNetworkState(host), { serviceCidr }) };
}

export async function teardownLocal(details: LocalDetails, deps: TeardownDeps): Promise<TeardownReport> {
  const stops: StopOutcome[] = [];
  const byName = new Map(details.components.map((c) => [c.name, c]));
  let podRemoval: string | null = null;
  const stopped = new Set<ProcessRecord>();
  if (deps.kubectl !== null && byName.has('kubelet') && byName.has('kube-apiserver')) {
    // The scheduler goes first: a pod recreated while the node's pods are deleted is never bound.
    const scheduler = byName.get('kube-scheduler');
    if (scheduler !== undefined) {
      const outcome = await stopRecorded(deps.control, scheduler);
      stops.push(outcome);
      stopped.add(scheduler);
      deps.log(describeStop(outcome));
      deps.progress(describeStop(outcome));
    }
    deps.progress(`removing the pods of node ${details.nodeName} while the kubelet can still stop them`);
    podRemoval = await removeNodePods(deps.kubectl, details.nodeName, details.clusterDns, deps.podRemovalBudgetMs ?? POD_REMOVAL_BUDGET_MS, deps.log);
    deps.log(podRemoval);
  }

  let cleanup: CleanupRun | null = null;
  let removal: RemovalOutcome[] | null = null;
  let leftovers: LeftoverReport | null = null;
  const order = stopOrder(details.components).filter((record) => !stopped.has(record));
  for (const record of order) {
    const outcome = await stopRecorded(deps.control, record);
    stops.push(outcome);
    deps.log(describeStop(outcome));
    deps.progress(describeStop(outcome));
    if (record.name === 'kube-proxy') {
      deps.progress(`running ${details.kubeProxy.cleanupArgv.join(' ')}`);
      cleanup = await runKubeProxyCleanup(deps.runner, details.kubeProxy.cleanupArgv, deps.env);
      deps.log(`kube-proxy --cleanup: ${cleanup.ok ? 'ok' : 'failed'}: ${cleanup.detail}`);
      ({ removal, leftovers } = await removeWhatCleanupLeft(deps.host, details.serviceCidr, deps.log, deps.progress));
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
  const allStopped = stops.every((s) => s.result !== 'left');
  // A failed --cleanup whose leftovers local-up then removed ends clean: the report says both.
  return { stops, podRemoval, cleanup, removal, leftovers, etcdData, ok: allStopped && (cleanup === null || cleanup.ok || removal !== null) && (leftovers === null || leftovers.clean) };
}
