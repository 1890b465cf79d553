// `up` for every provider: the steps of its plan (src/plan/up-plan.ts: preflight
// → modules → create → wait for kube-proxy and CoreDNS → prove the mode on every
// node → IPVS assertions), then the summary. `up --dry-run` prints the same plan.
// A failed or interrupted run deletes what it created (unless --retain), and a
// state file records what exists so `down`, `status` and `logs` find it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatKubeVersion } from '../config/kube-version.js';
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { runSteps } from './progress.js';
import type { Step } from './progress.js';
import type { Check } from '../doctor/check.js';
import { UP_ELSEWHERE_HINT, evaluateKernel, evaluateMode, moduleStatuses } from '../doctor/evaluate.js';
import { readKernelFacts } from '../doctor/gather.js';
import { kernelContextOf } from '../doctor/doctor.js';
import { ExitCode, LocalUpError, formatError, isLocalUpError, unavailableError, usageError } from '../errors.js';
import { LocalHost } from '../exec/host.js';
import type { LiveNodeCheck } from '../ipvs/live.js';
import type { KernelSite } from '../kernel/site.js';
import { thisMachineSite } from '../kernel/site.js';
import { formatIpvsReport } from '../ipvs/report.js';
import { loadModules } from '../kernel/load.js';
import type { RunLog } from '../log/run-log.js';
import { openRunLog } from '../log/run-log.js';
import type { ClusterNode, Provider, ProviderContext, ProviderSession } from '../providers/provider.js';
import { loadProvider } from '../providers/provider.js';
import type { UpStepId } from '../plan/up-plan.js';
import { planUp } from '../plan/up-plan.js';
import type { ClusterState } from '../state/state-file.js';
import { readClusterState, removeClusterState, writeClusterState } from '../state/state-file.js';
import type { ModeProof } from './cluster.js';
import { collectClusterLogs, logStamp } from './logs.js';
import { assertNodes, assertOptionsOf, assertionLine, hzLines, initialState, kubectlForState, providerContext, proveProxyMode } from './cluster.js';

/** Collecting a failed cluster's logs before deleting it may take this long at most. */
const FAILED_UP_LOGS_TIMEOUT_MS = 120_000;

export interface UpOptions {
  /** Keep what a failed run created (and pass --retain to kind). */
  readonly retain: boolean;
  /** Use an existing cluster of that name instead of failing. */
  readonly reuse: boolean;
  /** Return after start-up even when the provider could keep the cluster in the foreground. */
  readonly detach: boolean;
}

/** The orchestrator's own key in the state file's details. */
export const UP_PHASE_KEY = 'upPhase';
export type UpPhase = 'creating' | 'ready' | 'reused';

interface UpRun {
  provider: Provider;
  /** What the provider's preflight found, for its create() and the later steps (see Provider.preflight). */
  session: ProviderSession | null;
  state: ClusterState | null;
  /** create() was called: cleanup must call destroy(). */
  createStarted: boolean;
  reusing: boolean;
  nodes: readonly ClusterNode[];
  modes: ModeProof | null;
  checks: readonly LiveNodeCheck[];
  preflightNotes: string[];
  /** Where kube-proxy's kernel is (preflight judged it; modules loads there). */
  site: KernelSite | null;
}

/**
 * Runs `up`; returns the exit code (0) or throws a LocalUpError (1, 2, 3, 130).
 * @param provider defaults to CLUSTER_PROVIDER's (tests pass a stand-in).
 */
export async function runUp(io: Io, resolved: ResolvedSettings, options: UpOptions, provider?: Provider): Promise<number> {
  const s = resolved.values;
  const ipvs = s.proxyMode === 'ipvs';
  const log = openRunLog(s.logDir, 'up');
  log.write(`local-up up: cluster ${s.clusterName}, provider ${s.provider}, KUBE_PROXY_MODE=${s.proxyMode}, Kubernetes ${formatKubeVersion(s.kubeVersion)}`);
  const base = { io, resolved, log, retain: options.retain };
  const ctxFor = (progress: (line: string) => void): ProviderContext => providerContext({ ...base, progress: (line) => (log.write(line), progress(line)) });
  const run: UpRun = { provider: provider ?? (await loadProvider(s.provider)), session: null, state: null, createStarted: false, reusing: false, nodes: [], modes: null, checks: [], preflightNotes: [], site: null };
  const localHost = new LocalHost(io.runner, s.hostRoot);
  const saveState = async (details: Readonly<Record<string, unknown>>, phase: UpPhase) => {
    const previous = run.state;
    run.state = { ...(previous ?? initialState(s, {})), details: { ...details, [UP_PHASE_KEY]: phase } };
    await writeClusterState(s.stateDir, run.state);
  };

  // What each step of the plan does; the plan (src/plan/up-plan.ts) says which run, in which order, under which title.
  const actions: Readonly<Record<UpStepId, Omit<Step<UpRun>, 'title'>>> = {
    preflight: {
      run: async (r, progress) => {
        const ctx = ctxFor(progress);
        requireNoFailures(evaluateMode(s), ExitCode.usage, 'the settings cannot run', 'change the settings named above (`local-up doctor` explains each)');
        // The kernel kube-proxy will run on: the provider's say (kind: the engine's, maybe in a VM), else this machine's.
        const site = (await r.provider.kernelSite?.(ctx)) ?? thisMachineSite(localHost);
        r.site = site;
        if (!site.shared || site.rootless) progress(`kernel: ${site.description} (${site.why})`);
        const kernel = evaluateKernel(s, site.host === null ? { error: site.problem ?? 'the kernel cannot be read' } : await readKernelFacts(site.host), UP_ELSEWHERE_HINT, kernelContextOf(site));
        if (ipvs) {
          const whose = site.shared ? (s.provider === 'kind' ? 'kind nodes share this kernel' : 'kube-proxy runs on this kernel') : `kind's nodes run on it (${site.why})`;
          requireNoFailures(kernel, ExitCode.unavailable, `this kernel (${site.description}) cannot run kube-proxy in IPVS mode`, `${whose}: run up where the kernel has IPVS, or choose KUBE_PROXY_MODE=nftables; \`local-up doctor\` shows every check`);
        }
        const preflight = await r.provider.preflight(ctx);
        r.session = preflight.session;
        const providerChecks = preflight.checks;
        requireNoFailures(providerChecks, ExitCode.unavailable, `the ${s.provider} provider cannot run here`, 'fix the checks above (`local-up doctor` shows them all); nothing was created');
        for (const c of [...kernel, ...providerChecks].filter((c) => c.status === 'warn')) r.preflightNotes.push(`${c.title}: ${c.detail}`);
        r.preflightNotes.forEach((note) => progress(`warning: ${note}`));

        const recorded = await readClusterState(s.stateDir, s.clusterName);
        const exists = await r.provider.exists(ctx);
        if (recorded !== null || exists) {
          const what = recorded !== null ? `kube-local-up already created a cluster named "${s.clusterName}" (${recorded.provider}, ${recorded.createdAt})` : `a ${s.provider} cluster named "${s.clusterName}" already exists`;
          if (!options.reuse) {
            throw usageError(`${what}; nothing was changed`, `use it as it is with \`local-up up --reuse\`, delete it with \`local-up down${recorded === null ? ` --name ${s.clusterName}` : ''}\`, or pick another CLUSTER_NAME (--name)`);
          }
          if (!exists) throw usageError(`${what}, but the cluster is gone`, 'delete the stale record with `local-up down`, then run up again');
          r.reusing = true;
          r.state = recorded;
          if (recorded === null) await saveState((await r.provider.adopt?.(ctx)) ?? {}, 'reused');
          progress(`reusing the existing cluster "${s.clusterName}" (--reuse)`);
        }
      },
    },
    modules: {
      run: async (r, progress) => {
        const site = r.site ?? thisMachineSite(localHost);
        if (site.host === null) throw unavailableError(site.problem ?? `cannot reach ${site.description}`);
        // A rootless engine's nodes cannot load ip_set on demand: it is loaded with the rest.
        const extra = site.rootless ? ['ip_set'] : [];
        const facts = await readKernelFacts(site.host);
        if ('error' in facts) throw unavailableError(facts.error);
        if (!moduleStatuses(facts, s.scheduler, extra).some((m) => m.state === 'loadable')) {
          progress(`every module is loaded or built in (${site.description})`);
          return;
        }
        const result = await loadModules(
          s.scheduler,
          { host: site.host, runner: io.runner, elevation: { uid: process.getuid?.() ?? -1, interactive: io.stdinIsTTY, env: io.env }, signal: io.signal, modprobeThroughHost: site.modprobeThroughHost },
          { persist: false, extra },
        );
        progress(`loaded ${result.loaded.join(', ')} in ${site.description}`);
      },
    },
    create: {
      skip: (r) => (r.reusing ? 'reusing the existing cluster (--reuse)' : false),
      run: async (r, progress) => {
        const ctx = ctxFor(progress);
        await saveState({}, 'creating');
        r.createStarted = true;
        const details = await r.provider.create(ctx, requireSession(r), (partial) => saveState(partial, 'creating'));
        await saveState(details, 'ready');
      },
    },
    wait: {
      run: async (r, progress) => r.provider.waitReady(ctxFor(progress), requireState(r), requireSession(r)),
    },
    'prove-mode': {
      run: async (r, progress) => {
        const ctx = ctxFor(progress);
        const state = requireState(r);
        r.nodes = await r.provider.nodes(ctx, state);
        r.modes = await proveProxyMode(r.provider, ctx, state, r.nodes, s.proxyMode);
        for (const node of r.modes.nodes) progress(`${node.node}: /proxyMode = ${node.endpoint.mode ?? `no answer (${node.endpoint.error ?? ''})`}`);
        if (!r.modes.ok) {
          throw new LocalUpError(ExitCode.failed, `kube-proxy does not run in ${s.proxyMode} mode everywhere`, {
            details: r.modes.problems.join('\n'),
            hint: 'kube-proxy falls back or exits when the kernel lacks IPVS: `local-up logs` collects its log',
          });
        }
      },
    },
    assert: {
      run: async (r, progress) => {
        const kubectl = kubectlForState(io, s, requireState(r).kubeconfig, log);
        r.checks = await assertNodes(kubectl, r.nodes, assertOptionsOf(s), (node) => progress(`reading ${node}`));
        for (const c of r.checks) {
          log.write(formatIpvsReport(c));
          progress(`${c.node}: ${assertionLine(c)}`);
        }
        const hz = hzLines(r.checks);
        if (hz.unknown !== null) progress(`warning: ${hz.unknown}`);
        if (r.checks.some((c) => !c.diff.ok)) {
          io.out(r.checks.map(formatIpvsReport).join('\n'));
          const failed = r.checks.filter((c) => !c.diff.ok).map((c) => c.node);
          throw new LocalUpError(ExitCode.failed, `the IPVS table does not match the Services on ${failed.join(', ')} (report above)`, {
            hint: 'each FAIL line names the Service port and what differs; run up with --retain to keep the cluster, then `local-up logs`',
          });
        }
      },
    },
  };
  const steps: Step<UpRun>[] = planUp(s).steps.map((step) => ({ title: step.title, ...actions[step.id] }));

  try {
    await runSteps(io, steps, run);
  } catch (error) {
    await cleanUpAfterFailure(io, resolved, log, run, options);
    if (io.signal.aborted) {
      throw new LocalUpError(ExitCode.interrupted, 'interrupted', { hint: `${run.createStarted && !options.retain ? 'what this run created was deleted; ' : ''}log: ${log.path}` });
    }
    throw withLog(error, log);
  }
  io.out(renderSummary(resolved, run, log));
  const supervise = run.provider.supervise;
  if (supervise === undefined || options.detach || run.state === null) return ExitCode.ok;
  // Like local-up-cluster.sh: the cluster lives as long as this process; Ctrl-C stops it cleanly.
  io.err(`The cluster runs in the foreground; Ctrl-C stops it (use \`up --detach\` to return instead).\n`);
  // supervise() stops the cluster when it returns or throws; the record of it goes with it.
  let outcome: 'interrupted';
  try {
    outcome = await supervise.call(run.provider, ctxFor((line) => io.err(`${line}\n`)), run.state, io.signal, run.session ?? undefined);
  } catch (error) {
    await removeClusterState(s.stateDir, s.clusterName);
    throw withLog(error, log);
  }
  await removeClusterState(s.stateDir, s.clusterName);
  return outcome === 'interrupted' ? ExitCode.interrupted : ExitCode.ok;
}

function requireNoFailures(checks: readonly Check[], code: (typeof ExitCode)[keyof typeof ExitCode], message: string, hint: string): void {
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return;
  throw new LocalUpError(code, message, {
    details: failed.map((c) => `FAIL ${c.id}: ${c.title}: ${c.detail}${c.fix === null ? '' : `\n     fix: ${c.fix}`}`).join('\n'),
    hint,
  });
}

function requireSession(run: UpRun): ProviderSession {
  if (run.session === null) throw new Error('up: no provider session after the preflight step');
  return run.session;
}

function requireState(run: UpRun): ClusterState {
  if (run.state === null) throw new Error('up: no cluster state after the create step');
  return run.state;
}

/** Deletes what this run created (not a reused cluster), unless --retain; never throws. */
async function cleanUpAfterFailure(io: Io, resolved: ResolvedSettings, log: RunLog, run: UpRun, options: UpOptions): Promise<void> {
  const s = resolved.values;
  if (!run.createStarted) return;
  if (options.retain) {
    const kubeconfig = run.state?.kubeconfig ?? s.kubeconfigOut;
    if (existsSync(kubeconfig)) {
      io.err(`kept the cluster "${s.clusterName}" (--retain); inspect it with KUBECONFIG=${kubeconfig}, delete it with: local-up down\n`);
    } else {
      const how = run.provider.retainedHint?.(providerContext({ io, resolved, log })) ?? `no kubeconfig was written to ${kubeconfig}`;
      io.err(`kept what the failed run created for "${s.clusterName}" (--retain); ${how}; delete it with: local-up down\n`);
    }
    return;
  }
  // Ctrl-C already aborted io.signal: cleanup gets its own, so its commands run.
  const ctx = providerContext({ io, resolved, log, signal: new AbortController().signal, progress: (line) => log.write(`cleanup: ${line}`) });
  // The evidence goes with the cluster: keep its logs first (not after Ctrl-C, where the user wants out).
  if (!io.signal.aborted && run.state !== null && run.state.details[UP_PHASE_KEY] === 'ready') {
    const dir = join(s.logDir, `failed-up-${logStamp(new Date())}`);
    const collected = await Promise.race([
      collectClusterLogs(run.provider, ctx, run.state, dir).then(() => true, (error: unknown) => (log.write(`collecting logs failed: ${(error as Error).message}`), false)),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), FAILED_UP_LOGS_TIMEOUT_MS).unref()),
    ]);
    if (collected) io.err(`kept the failed cluster's logs in ${dir}\n`);
  }
  io.err(`cleaning up: deleting the ${s.provider} cluster "${s.clusterName}" this run created (--retain keeps it)\n`);
  try {
    await run.provider.destroy(ctx, run.state, run.session ?? undefined);
    await removeClusterState(s.stateDir, s.clusterName);
    log.write('cleanup: done');
  } catch (error) {
    log.write(`cleanup failed: ${(error as Error).message}`);
    io.err(`${isLocalUpError(error) ? formatError(error) : String(error)}\ncleanup failed; the state file was kept: run \`local-up down\` to finish\n`);
  }
}

function withLog(error: unknown, log: RunLog): unknown {
  if (!isLocalUpError(error)) return error;
  const hint = `${error.hint === undefined ? '' : `${error.hint}\n`}log: ${log.path}`;
  return new LocalUpError(error.exitCode, error.message, { hint, ...(error.details === undefined ? {} : { details: error.details }), cause: error });
}

export function renderSummary(resolved: ResolvedSettings, run: UpRun, log: RunLog): string {
  const s = resolved.values;
  const state = run.state;
  const kubeconfig = state?.kubeconfig ?? s.kubeconfigOut;
  const lines = [
    `Cluster "${s.clusterName}" is ${run.reusing ? 'up (reused)' : 'up'}: ${s.provider}, Kubernetes ${formatKubeVersion(s.kubeVersion)}, kube-proxy in ${s.proxyMode} mode`,
    '',
    `  kubeconfig  ${kubeconfig}`,
    `              export KUBECONFIG=${kubeconfig}`,
  ];
  const modes = run.modes;
  if (modes !== null) {
    lines.push(`  mode        ${modes.configured.source}: ${modes.configured.mode === '' ? '(default)' : modes.configured.mode}`);
    for (const node of modes.nodes) {
      const check = run.checks.find((c) => c.node === node.node);
      lines.push(`  node        ${node.node}: /proxyMode ${node.endpoint.mode ?? 'no answer'}${check === undefined ? '' : `; IPVS ${assertionLine(check)}`}`);
    }
  }
  lines.push(
    s.proxyMode === 'ipvs'
      ? `  assertions  ${run.checks.every((c) => c.diff.ok) ? 'PASS' : 'FAIL'}: IPVS table checked against every Service and EndpointSlice on ${run.checks.length} node${run.checks.length === 1 ? '' : 's'}`
      : `  assertions  IPVS assertions skipped (KUBE_PROXY_MODE=${s.proxyMode})`,
  );
  if (run.checks.length > 0) {
    const hz = hzLines(run.checks);
    for (const line of hz.known) lines.push(`  hz          ${line}`);
    if (hz.unknown !== null) lines.push(`  warning     ${hz.unknown}`);
  }
  for (const note of run.preflightNotes) lines.push(`  warning     ${note}`);
  lines.push(
    `  logs        ${log.path}`,
    `              more (kind logs, IPVS tables, ipsets, kube-proxy): local-up logs  (npm run logs)`,
    `  status      local-up status  (npm run status)`,
    `  tear down   local-up down  (npm run down)`,
  );
  return `${lines.join('\n')}\n`;
}
