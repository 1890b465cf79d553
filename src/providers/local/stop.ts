// destroy() of the local provider: every component of this cluster (recorded or
// found running from its folders) stopped in reverse order, kube-proxy --cleanup,
// the host checked for leftovers, etcd's data removed unless PRESERVE_ETCD.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, LocalUpError } from '../../errors.js';
import { Kubectl } from '../../kube/kubectl.js';
import type { ClusterState } from '../../state/state-file.js';
import type { ProviderContext } from '../provider.js';
import type { LocalDetails } from './details.js';
import { readLocalDetails } from './details.js';
import { formatLeftoverReport } from './host-state.js';
import type { LocalPlan } from './plan.js';
import { COMPONENTS, planLayout } from './plan.js';
import type { ProcessRecord } from './process.js';
import { readIdentity } from './process.js';
import type { TeardownReport } from './teardown.js';
import { formatRemoval } from './leftover-removal.js';
import { teardownLocal } from './teardown.js';
import type { LocalProviderDeps, LocalSession } from './session.js';
import { launchArgv, kubectlAt, hostFor } from './session.js';

/**
 * Processes of this cluster found without a state file: their command line names one of the
 * cluster's own folders (generated configs, certificates, etcd data), which no other cluster shares.
 */
export function discoverComponents(processes: readonly { pid: number; cmdline: readonly string[] }[], layout: Pick<LocalPlan['layout'], 'configDir' | 'certDir' | 'etcdDir'>): { name: string; pid: number; cmdline: readonly string[] }[] {
  const names = (word: string) => word.includes(`${layout.configDir}/`) || word.includes(`${layout.certDir}/`) || word === layout.etcdDir || word.endsWith(`=${layout.etcdDir}`);
  const found: { name: string; pid: number; cmdline: readonly string[] }[] = [];
  for (const p of processes) {
    if (!p.cmdline.some(names)) continue;
    const name = COMPONENTS.find((c) => p.cmdline.some((word) => word === c || word.endsWith(`/${c}`)));
    if (name !== undefined && !p.cmdline.includes('--cleanup')) found.push({ name, pid: p.pid, cmdline: p.cmdline });
  }
  return found;
}

/** Lines for the user: what was stopped, kube-proxy --cleanup, what is left on the host, etcd's data. */
export function describeTeardown(report: TeardownReport): string[] {
  const lines: string[] = [];
  if (report.podRemoval !== null) lines.push(report.podRemoval);
  for (const stop of report.stops) {
    lines.push(
      stop.result === 'stopped' ? `stopped ${stop.name} (pid ${stop.pid})`
      : stop.result === 'killed' ? `killed ${stop.name} (pid ${stop.pid}) after SIGTERM was not enough`
      : stop.result === 'left' ? `${stop.name} (pid ${stop.pid}) is STILL RUNNING`
      : stop.decision.why,
    );
  }
  if (report.cleanup !== null) lines.push(report.cleanup.ok ? `${report.cleanup.command}: done` : `${report.cleanup.command} FAILED: ${report.cleanup.detail}`);
  if (report.removal !== null) lines.push(`kube-proxy --cleanup left some of its state; local-up removed it itself (what failed is named):`, ...formatRemoval(report.removal));
  if (report.leftovers !== null) lines.push(...formatLeftoverReport(report.leftovers).trimEnd().split('\n'));
  lines.push(report.etcdData === 'removed' ? "etcd's data folder was removed" : report.etcdData === 'kept' ? "etcd's data folder was kept (PRESERVE_ETCD)" : "etcd's data folder was already gone");
  return lines;
}

/** Provider.destroy for the local provider: idempotent, "absent" when nothing of this cluster runs. */
export async function stopLocalCluster(deps: LocalProviderDeps, ctx: ProviderContext, state: ClusterState | null, session?: LocalSession): Promise<'deleted' | 'absent'> {
  const recorded = state !== null && state.details.kind === 'local' ? readLocalDetails(state.details, 'the state file') : (session?.details ?? null);
  const layout = recorded?.layout ?? planLayout(ctx.settings, ctx.clusterDir);
  // Also whatever runs from this cluster's folders without a record (a run killed between
  // starting a component and writing the state file, or no state file at all).
  const known = new Set((recorded?.components ?? []).map((c) => c.pid));
  const strays = discoverComponents(deps.listProcesses(), layout)
    .filter((p) => !known.has(p.pid))
    .map((p): ProcessRecord => {
      const identity = readIdentity(p.pid);
      return { name: p.name, pid: p.pid, pgid: identity?.pgid ?? p.pid, startTicks: identity?.startTicks ?? null, argv: p.cmdline, logFile: join(layout.logDir, `${p.name}.log`) };
    });
  if (recorded === null && strays.length === 0) return 'absent';
  const rank = (name: string) => COMPONENTS.indexOf(name as (typeof COMPONENTS)[number]);
  const components = [...(recorded?.components ?? []), ...strays].sort((a, b) => rank(a.name) - rank(b.name));
  const kubeProxyConfig = join(layout.configDir, 'kube-proxy.yaml');
  const details: LocalDetails = {
    ...(recorded ?? {
      kind: 'local' as const,
      version: '',
      nodeName: ctx.settings.hostnameOverride,
      serviceCidr: ctx.settings.serviceCidr,
      layout,
      kubeProxy: {
        configFile: kubeProxyConfig,
        mode: ctx.settings.proxyMode,
        // The binary the running kube-proxy was started from (its argv), else PATH's.
        cleanupArgv: launchArgv({ argv: [strays.find((r) => r.name === 'kube-proxy')?.argv.find((w) => w.endsWith('/kube-proxy')) ?? 'kube-proxy', `--config=${kubeProxyConfig}`, '--cleanup'], root: true }, ctx.uid, ctx.env),
        healthzUrl: '',
        proxyModeUrl: '',
      },
      clusterDns: ctx.settings.enableClusterDns,
      preserveEtcd: ctx.settings.preserveEtcd,
      sudo: ctx.uid !== 0,
      configFiles: [],
      requiredVirtualServers: [],
    }),
    components,
  };
  const supervisor = session?.supervisor;
  supervisor?.expectStop(details.components.map((c) => c.name));
  const apiserverAlive = details.components.some((c) => c.name === 'kube-apiserver' && readIdentity(c.pid) !== null);
  let kubectl: Kubectl | null = null;
  if (apiserverAlive && existsSync(details.layout.adminKubeconfig)) {
    try {
      // Stopping must finish even after Ctrl-C: no abort signal for these commands.
      kubectl = kubectlAt(ctx, details.layout.adminKubeconfig, new AbortController().signal);
    } catch {
      kubectl = null;
    }
  }
  const report = await teardownLocal(details, { control: deps.control(ctx), runner: ctx.runner, env: ctx.env, host: hostFor(ctx), kubectl, log: (line) => ctx.log.write(line), progress: ctx.progress });
  const summary = describeTeardown(report);
  for (const line of summary) ctx.progress(line);
  if (!report.ok) {
    throw new LocalUpError(ExitCode.failed, report.leftovers !== null && !report.leftovers.clean ? 'the cluster stopped, but kube-proxy state is still on this host' : 'the cluster did not stop cleanly', {
      details: summary.join('\n'),
      hint: 'the lines above name what is left; `local-up down` again retries (the state file was kept)',
    });
  }
  return 'deleted';
}
