// `local-up smoke`: proves Service networking works in the cluster's proxy
// mode. In a namespace of its own it deploys 3 backends, a client and one
// Service of each shape, then checks, in order: /proxyMode on every node, the
// IPVS state of every smoke Service on every node, the headless Service, how
// ClusterIP traffic spreads, ClientIP affinity (traffic and IPVS persistence),
// NodePort on every node, UDP, DNS through kube-dns, and scaling to 1 (removed
// backends leave IPVS within SMOKE_SYNC_TIMEOUT, traffic still flows). Each
// check is a named case with its evidence; the namespace is deleted afterwards
// (after a failure and on Ctrl-C too) unless --keep. This file deploys and
// reports; the checks are src/smoke/suite.ts.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { checkJunitPath, writeJunitFile } from '../io/junit.js';
import { jsonText } from '../io/output.js';
import { ExitCode, LocalUpError, formatError, isLocalUpError, usageError } from '../errors.js';
import { LocalHost } from '../exec/host.js';
import { describeFailure, tail } from '../exec/runner.js';
import { readHostHz } from '../ipvs/live.js';
import { Kubectl } from '../kube/kubectl.js';
import { withNodePod } from '../kube/node-pod.js';
import { openRunLog } from '../log/run-log.js';
import { loadProvider } from '../providers/provider.js';
import { readClusterState } from '../state/state-file.js';
import { kubectlForState, providerContext } from '../steps/cluster.js';
import { smokeNamespaceName } from './manifests.js';
import type { SmokeReport } from './report.js';
import { formatSmokeReport, renderSmokeJunit, smokeJson } from './report.js';
import type { SmokeHook, SmokeNode } from './suite.js';
import { SmokeRun } from './suite.js';

/** Namespace deletion is asynchronous (--wait=false): this only bounds the API call. */

export interface SmokeOptions {
  readonly keep: boolean;
  readonly json: boolean;
  readonly junitFile: string | undefined;
  /** --kubeconfig: any cluster; nodes are reached through helper pods. */
  readonly kubeconfig: string | undefined;
  /** The helper pods' image (the assert --all-nodes flow). */
  readonly podImage: string;
  /** The mode to check (default: the state file's for a cluster up made, else KUBE_PROXY_MODE). */
  readonly mode?: string;
  /** Runs with all backends up, between the traffic checks and the scale-down. */
  readonly beforeScaleDown?: SmokeHook;
}

/** Runs smoke and prints its report; returns 0 or 1, or throws (2 bad usage, 3 missing tool, 130 interrupted). */
export async function runSmoke(io: Io, resolved: ResolvedSettings, options: SmokeOptions): Promise<number> {
  const { report, logPath } = await executeSmoke(io, resolved, options);
  io.out(options.json ? jsonText(smokeJson(report)) : formatSmokeReport(report));
  if (report.interrupted) throw new LocalUpError(ExitCode.interrupted, 'interrupted', { hint: `namespace ${report.namespace}: ${report.cleanup}; log: ${logPath}` });
  if (!report.ok) io.err(`log: ${logPath}\n`);
  return report.ok ? ExitCode.ok : ExitCode.failed;
}

/** Runs smoke and returns its report (written as JUnit when asked), or throws (2 bad usage, 3 missing tool). */
export async function executeSmoke(io: Io, resolved: ResolvedSettings, options: SmokeOptions): Promise<{ report: SmokeReport; logPath: string }> {
  const s = resolved.values;
  const state = await readClusterState(s.stateDir, s.clusterName);
  if (options.kubeconfig === undefined && state === null) {
    throw usageError(
      `kube-local-up has no record of a cluster named "${s.clusterName}"`,
      'bring one up with `local-up up`, name it with --name, or point smoke at any cluster with --kubeconfig FILE (its nodes are then read through a short-lived helper pod each)',
    );
  }
  const kubeconfig = resolve(io.cwd, options.kubeconfig ?? state?.kubeconfig ?? s.kubeconfigOut);
  if (!existsSync(kubeconfig)) throw usageError(`kubeconfig ${kubeconfig} does not exist`, 'give the cluster with --kubeconfig FILE, or bring one up with `local-up up`');
  const junitFile = options.junitFile === undefined ? undefined : checkJunitPath(io.cwd, options.junitFile);
  // A cluster up made is smoked in the mode it was made with, unless the mode is given.
  const fromState = options.kubeconfig === undefined && state !== null;
  const mode = options.mode ?? (fromState && state !== null && resolved.sources.proxyMode.source === 'default' ? state.proxyMode : s.proxyMode);

  const log = openRunLog(s.logDir, 'smoke');
  const kubectl = kubectlForState(io, s, kubeconfig, log);
  const namespace = smokeNamespaceName();
  log.write(`local-up smoke: namespace ${namespace}, kubeconfig ${kubeconfig}, mode ${mode}, scheduler ${s.scheduler}, image ${s.smokeImage}`);
  const progress = (line: string) => {
    log.write(line);
    io.err(`${line}\n`);
  };

  const run = new SmokeRun(io, kubectl, namespace, mode, resolved, progress);
  const startedAt = new Date();
  let nodeNames: string[] = [];
  let created = false;
  let failure: unknown = null;
  try {
    const access = async <T>(work: (nodes: readonly SmokeNode[]) => Promise<T>): Promise<T> => {
      if (fromState && state !== null) {
        const provider = await loadProvider(state.provider);
        const ctx = providerContext({ io, resolved, log });
        const hzFallback = await readHostHz(new LocalHost(io.runner, s.hostRoot));
        // The provider knows the nodes' kernel (kind: maybe an engine's VM, not this machine's); else this machine's.
        const nodes = (await provider.nodes(ctx, { ...state, kubeconfig })).map((n) => ({ name: n.name, host: n.host, hzFallback: n.hzFallback === undefined ? hzFallback : (n.hzFallback?.hz ?? null), ...(n.proxyModePort === undefined ? {} : { proxyModePort: n.proxyModePort }), ...(n.proxyModeAddress === undefined ? {} : { proxyModeAddress: n.proxyModeAddress }) }));
        return work(nodes);
      }
      const names = (await kubectl.nodes()).map((n) => n.name);
      progress(`smoke: reading ${names.length} node${names.length === 1 ? '' : 's'} through helper pods (${options.podImage})`);
      return withNodePods(kubectl, names, options.podImage, work);
    };
    await access(async (nodes) => {
      nodeNames = nodes.map((n) => n.name);
      created = true;
      await run.all(nodes, options.beforeScaleDown);
    });
  } catch (error) {
    failure = error;
  }

  let cleanup = 'not created';
  if (created) cleanup = options.keep ? `kept (--keep); delete it with: kubectl --kubeconfig ${kubeconfig} delete namespace ${namespace}` : await deleteNamespace(kubectl, namespace, kubeconfig);
  if (created) progress(`smoke: namespace ${namespace}: ${cleanup}`);

  const aborted = io.signal.aborted;
  if (failure !== null && !aborted) {
    // A bug is a bug; an expected failure before or around the checks (helper pods, API) is an error case.
    if (!isLocalUpError(failure)) throw failure;
    if (!created) throw failure;
    run.record({ group: 'setup', name: 'smoke could not run', status: 'error', message: failure.message, evidence: formatError(failure).split('\n'), seconds: 0 });
    run.skipRemaining('not run: smoke stopped early');
  }
  if (aborted) run.skipRemaining('not run: interrupted');

  const report: SmokeReport = {
    ok: !aborted && run.cases.every((c) => c.status === 'passed' || c.status === 'skipped'),
    kubeconfig,
    namespace,
    mode,
    scheduler: s.scheduler,
    image: s.smokeImage,
    nodes: nodeNames,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    cleanup,
    interrupted: aborted,
    cases: run.cases,
  };
  if (junitFile !== undefined) {
    try {
      writeJunitFile(io.cwd, junitFile, renderSmokeJunit(report, hostname()));
    } catch (error) {
      // The report still goes to stdout; the exit code stays the checks' own.
      io.err(`${isLocalUpError(error) ? formatError(error) : String(error)}\n`);
    }
  }
  log.write(`smoke: ${report.ok ? 'PASS' : 'FAIL'}`);
  return { report, logPath: log.path };
}

/** Helper pods on every node (created one after the other, all deleted afterwards, also on failure or Ctrl-C). */
function withNodePods<T>(kubectl: Kubectl, names: readonly string[], image: string, work: (nodes: readonly SmokeNode[]) => Promise<T>, reached: SmokeNode[] = []): Promise<T> {
  const [first, ...rest] = names;
  if (first === undefined) return work(reached);
  return withNodePod(kubectl, first, image, (host) => withNodePods(kubectl, rest, image, work, [...reached, { name: first, host, hzFallback: null }]));
}

/** Deletes the namespace without waiting for it to finish terminating; never throws, runs after Ctrl-C too. */
async function deleteNamespace(kubectl: Kubectl, namespace: string, kubeconfig: string): Promise<string> {
  const result = await kubectl.run(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'], { signal: new AbortController().signal });
  if (result.exitCode === 0) return 'deleted';
  return `NOT deleted (${describeFailure(result, kubectl.options.timeoutMs)}: ${tail(result.stderr, 2).trim()}); delete it with: kubectl --kubeconfig ${kubeconfig} delete namespace ${namespace}`;
}
