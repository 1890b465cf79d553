// `local-up compare-modes`: on a cluster `up` made, smoke (plus node probes) in the
// running mode with migrate-check's prediction read while the smoke Services exist,
// the provider switches kube-proxy, smoke again in the new mode, the leftover check;
// then both runs side by side (./model.ts). Runs exactly the steps of planCompare.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedSettings } from '../config/resolve.js';
import { ExitCode, LocalUpError, unavailableError, usageError } from '../errors.js';
import { pollUntil } from '../exec/wait.js';
import type { Io } from '../io/io.js';
import { DEFAULT_NODE_POD_IMAGE } from '../kube/node-pod-defaults.js';
import type { LeftoverCheck } from '../migrate/leftovers.js';
import { findLeftovers } from '../migrate/leftovers.js';
import { readLeftovers, readNodeFacts } from '../migrate/read-node.js';
import type { MigrationReport, NodeFacts, TargetMode } from '../migrate/rules.js';
import { TARGET_MODES, checkMigration } from '../migrate/rules.js';
import type { RunLog } from '../log/run-log.js';
import { openRunLog } from '../log/run-log.js';
import type { ClusterNode, Provider } from '../providers/provider.js';
import { loadProvider } from '../providers/provider.js';
import type { SmokeReport } from '../smoke/report.js';
import { executeSmoke } from '../smoke/run.js';
import type { SmokeWorkloads } from '../smoke/suite.js';
import type { ClusterState } from '../state/state-file.js';
import { readClusterState, writeClusterState } from '../state/state-file.js';
import { kubectlForState, providerContext, readProxyModeEndpoint } from '../steps/cluster.js';
import { readMigrationInput } from './live-input.js';
import { compareRuns } from './model.js';
import type { ComparePlan, CompareStepId } from './plan.js';
import { planCompare } from './plan.js';
import type { NodeProbe } from './probes.js';
import { probeFromNodes } from './probes.js';
import type { CompareResult } from './report.js';
import { smokeSummary } from './report.js';

/** The only mode migrate-check's rules leave. */
export const COMPARE_FROM = 'ipvs';
const MODE_POLL_MS = 2_000;

export interface CompareOptions {
  readonly from: string | undefined;
  readonly to: string;
}

/** What was checked before anything runs: the cluster, its provider and nodes, the plan. */
export interface ComparePrepared {
  readonly state: ClusterState;
  readonly provider: Provider;
  readonly nodes: readonly ClusterNode[];
  readonly kubeconfig: string;
  readonly from: string;
  readonly to: TargetMode;
  readonly plan: ComparePlan;
  /** This run's log file (LOG_DIR/compare-modes-*.log). */
  readonly log: RunLog;
}

/** Validates everything and reads the running mode; changes nothing (exit 2 for every refusal, 3 when the cluster cannot be read). */
export async function prepareCompare(io: Io, resolved: ResolvedSettings, options: CompareOptions): Promise<ComparePrepared> {
  const s = resolved.values;
  if (!(TARGET_MODES as readonly string[]).includes(options.to)) throw usageError(`--to ${JSON.stringify(options.to)} is not a mode kube-proxy can move to from IPVS`, `choose ${TARGET_MODES.join(' or ')}`);
  const to = options.to as TargetMode;
  if (options.from !== undefined && options.from !== COMPARE_FROM) {
    throw usageError(`--from ${JSON.stringify(options.from)}: compare-modes compares leaving IPVS, so the first mode is ipvs`, "migrate-check's rules, which explain the differences, describe leaving IPVS");
  }
  const state = await readClusterState(s.stateDir, s.clusterName);
  if (state === null) {
    throw usageError(
      `kube-local-up has no record of a cluster named "${s.clusterName}" (in ${s.stateDir}): compare-modes switches kube-proxy, so it works only on a cluster \`local-up up\` made`,
      'bring one up with `local-up up` (CLUSTER_PROVIDER=local), or name it with --name; for any other cluster `local-up migrate-check` predicts the differences without switching',
    );
  }
  const provider = await loadProvider(state.provider);
  if (provider.switchProxyMode === undefined || provider.describeSwitchProxyMode === undefined) {
    throw usageError(`cluster "${state.clusterName}" was made by the ${state.provider} provider: compare-modes switches kube-proxy only on clusters of the local provider`, '`local-up migrate-check` predicts the differences without switching');
  }
  const kubeconfig = resolve(io.cwd, state.kubeconfig);
  if (!existsSync(kubeconfig)) throw usageError(`the cluster's kubeconfig ${kubeconfig} does not exist`, 'is the cluster still up? `local-up status` says');
  const log = openRunLog(s.logDir, 'compare-modes');
  const ctx = providerContext({ io, resolved, log });
  const nodes = await provider.nodes(ctx, state);
  const from = options.from ?? COMPARE_FROM;
  for (const node of nodes) {
    const answer = await readProxyModeEndpoint(node.host, node.proxyModePort, node.proxyModeAddress);
    if (answer.mode === null) {
      throw unavailableError(`cannot read kube-proxy's mode on node ${node.name}: ${answer.error ?? 'no answer'}`, { hint: 'is the cluster running? `local-up status` says' });
    }
    if (answer.mode !== from) {
      throw usageError(
        options.from === undefined
          ? `kube-proxy on node ${node.name} runs in ${answer.mode} mode (its /proxyMode): compare-modes compares leaving IPVS, so it starts from ipvs`
          : `--from ${from}: kube-proxy on node ${node.name} runs in ${answer.mode} mode (its /proxyMode), not ${from}`,
        'nothing was changed; bring up a cluster with KUBE_PROXY_MODE=ipvs',
      );
    }
  }
  const plan = planCompare({ cluster: state.clusterName, from, to, nodes: nodes.map((n) => n.name), switchLines: provider.describeSwitchProxyMode(state, to), hostListenerPort: s.kubeProxyHealthzPort });
  return { state, provider, nodes, kubeconfig, from, to, plan, log };
}

/** Runs the plan's steps in order and returns the side-by-side result. */
export async function runCompare(io: Io, resolved: ResolvedSettings, prepared: ComparePrepared): Promise<CompareResult> {
  const s = resolved.values;
  const { provider, from, to, plan, kubeconfig, log } = prepared;
  let state = prepared.state;
  const progress = (line: string) => {
    log.write(line);
    io.err(`${line}\n`);
  };
  const ctx = providerContext({ io, resolved, log, progress });
  const kubectl = kubectlForState(io, s, kubeconfig, log);
  const steps: { id: string; title: string; seconds: number; lines: string[] }[] = [];
  let before: { report: SmokeReport; probes: NodeProbe[] } | null = null;
  let after: { report: SmokeReport; probes: NodeProbe[] } | null = null;
  let predictions: MigrationReport | null = null;
  let leftovers: LeftoverCheck[] = [];
  let stopped: string | null = null;

  const smoke = async (mode: string, lines: string[], also?: (w: SmokeWorkloads) => Promise<void>) => {
    let probes: NodeProbe[] = [];
    const { report } = await executeSmoke(io, resolved, {
      keep: false, json: false, junitFile: undefined, kubeconfig: undefined, podImage: DEFAULT_NODE_POD_IMAGE, mode,
      beforeScaleDown: async (workloads) => {
        progress(`compare-modes: probing from the nodes (${mode})`);
        probes = await probeFromNodes(workloads, s.kubeProxyHealthzPort);
        if (also !== undefined) await also(workloads);
      },
    });
    if (report.interrupted) throw new LocalUpError(ExitCode.interrupted, 'interrupted', { hint: `kube-proxy runs in ${state.proxyMode} mode; namespace ${report.namespace}: ${report.cleanup}` });
    const failed = report.cases.filter((c) => c.status === 'failed' || c.status === 'error');
    lines.push(`smoke in ${mode} mode: ${report.ok ? 'PASS' : 'FAIL'} (${report.cases.length} cases, ${failed.length} failed; namespace ${report.namespace} ${report.cleanup})`);
    for (const c of failed) lines.push(`  ${c.status.toUpperCase()} ${c.name}: ${c.message}`);
    lines.push(`node probes: ${probes.length} (${probes.filter((p) => p.answered).length} answered)`);
    return { report, probes };
  };

  const execute: Record<CompareStepId, (lines: string[]) => Promise<void>> = {
    'smoke-before': async (lines) => {
      before = await smoke(from, lines, async (workloads) => {
        const facts: NodeFacts[] = [];
        for (const node of workloads.nodes) facts.push(await readNodeFacts(node.host, node.name, workloads.kubeNodes.find((n) => n.name === node.name)?.internalIPs ?? []));
        predictions = checkMigration(await readMigrationInput(kubectl, state, to, facts));
      });
      const p = predictions as MigrationReport | null;
      if (p === null) stopped = `the smoke workloads did not run in ${from} mode, so there is nothing to compare; kube-proxy was not switched`;
      else {
        lines.push(`migrate-check --to ${to}: ${p.counts.blocker} blockers, ${p.counts.change} changes, ${p.counts.info} notes`);
        if (p.counts.blocker > 0) stopped = `migrate-check found ${p.counts.blocker} blocker(s): kube-proxy was not switched (${p.findings.filter((f) => f.severity === 'blocker').map((f) => `[${f.rule}] ${f.message}`).join('; ')})`;
      }
    },
    switch: async (lines) => {
      const switched = await (provider.switchProxyMode as NonNullable<Provider['switchProxyMode']>)(ctx, state, to, async (next) => {
        state = next;
        await writeClusterState(s.stateDir, next);
      });
      state = switched.state;
      await writeClusterState(s.stateDir, state);
      lines.push(...switched.lines);
      for (const node of await provider.nodes(ctx, state)) {
        const seen = await pollUntil(async () => {
          const answer = await readProxyModeEndpoint(node.host, node.proxyModePort, node.proxyModeAddress);
          return { done: answer.mode === to, value: answer };
        }, { timeoutMs: s.readyTimeout * 1000, intervalMs: MODE_POLL_MS, signal: io.signal });
        if (!seen.done) throw new LocalUpError(ExitCode.failed, `after the switch, kube-proxy on node ${node.name} answers /proxyMode "${seen.value.mode ?? seen.value.error ?? ''}", not ${to}`, { hint: `its log: ${s.logDir}` });
        lines.push(`node ${node.name}: /proxyMode ${to}`);
      }
    },
    'smoke-after': async (lines) => {
      after = await smoke(to, lines);
    },
    leftovers: async (lines) => {
      leftovers = [];
      for (const node of await provider.nodes(ctx, state)) leftovers.push(findLeftovers(await readLeftovers(node.host, node.name), to));
      lines.push(...leftovers.map((l) => `node ${l.node}: ${l.ok ? 'no IPVS leftovers' : `${l.leftovers.length} kind(s) of IPVS leftovers`}`));
    },
  };

  for (const step of plan.steps) {
    if (stopped !== null) break;
    progress(`compare-modes: ${step.title}`);
    const started = Date.now();
    const lines: string[] = [];
    try {
      await execute[step.id](lines);
    } finally {
      steps.push({ id: step.id, title: step.title, seconds: (Date.now() - started) / 1000, lines });
    }
  }

  const b = before as { report: SmokeReport; probes: NodeProbe[] } | null;
  const a = after as { report: SmokeReport; probes: NodeProbe[] } | null;
  const p = predictions as MigrationReport | null;
  const comparison = b !== null && a !== null && p !== null
    ? compareRuns({ mode: from, namespace: b.report.namespace, cases: b.report.cases, probes: b.probes }, { mode: to, namespace: a.report.namespace, cases: a.report.cases, probes: a.probes }, p)
    : null;
  return {
    ok: stopped === null && comparison !== null && comparison.ok && leftovers.every((l) => l.ok),
    cluster: state.clusterName,
    from,
    to,
    plan,
    steps,
    comparison,
    predictions: p,
    smoke: { before: b === null ? null : smokeSummary(b.report), after: a === null ? null : smokeSummary(a.report) },
    leftovers,
    stopped,
  };
}
