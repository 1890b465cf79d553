// compare-modes on a local cluster: switch the running kube-proxy to another mode
// the way an operator would. Stop it; run the old mode's cleanup as kube-proxy
// documents it (`kube-proxy --cleanup`, with the configuration it ran with), then
// whatever of its state that cleanup left (src/providers/local/leftover-removal.ts: the
// IPv6 IPVS ipsets always, more when --cleanup fails);
// set `mode` in the KubeProxyConfiguration up wrote (nothing else changes); start it
// again with the same command line and wait for its /healthz. The state file follows
// each step (the new pid as soon as it exists).
import { readFile, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ExitCode, LocalUpError, usageError } from '../../errors.js';
import type { ClusterState } from '../../state/state-file.js';
import type { ProviderContext } from '../provider.js';
import type { LocalDetails } from './details.js';
import { readLocalDetails } from './details.js';
import type { LocalProviderDeps } from './session.js';
import { hostFor } from './session.js';
import { Supervisor, describeStop, stopRecorded } from './supervisor.js';
import { formatLeftoverReport } from './host-state.js';
import { formatRemoval } from './leftover-removal.js';
import { removeWhatCleanupLeft, runKubeProxyCleanup } from './teardown.js';

/** The KubeProxyConfiguration text with only `mode` changed (comments and the rest kept). */
export function withProxyMode(configText: string, mode: string): string {
  const doc = YAML.parseDocument(configText);
  if (doc.errors.length > 0) throw usageError(`kube-proxy's configuration is not YAML: ${doc.errors[0]?.message ?? ''}`);
  const kind = doc.get('kind');
  if (kind !== 'KubeProxyConfiguration') throw usageError(`kube-proxy's configuration has kind ${JSON.stringify(kind)}, not KubeProxyConfiguration`);
  doc.set('mode', mode);
  return doc.toString();
}

function kubeProxyRecord(details: LocalDetails) {
  const record = details.components.find((c) => c.name === 'kube-proxy');
  if (record === undefined) throw usageError('the state file records no kube-proxy for this cluster', 'bring the cluster up again with `local-up up`');
  return record;
}

/** What switchLocalProxyMode does, step by step (for --dry-run; touches nothing). */
export function describeLocalSwitch(state: ClusterState, to: string): string[] {
  const details = readLocalDetails(state.details, 'the state file');
  const record = kubeProxyRecord(details);
  return [
    `stop kube-proxy (pid ${record.pid}, its process group: SIGTERM, SIGKILL after the grace period)`,
    `${details.kubeProxy.cleanupArgv.join(' ')} (the old mode's cleanup, as kube-proxy documents --cleanup)`,
    'read the host; remove what the cleanup left of the old mode (kube-proxy\'s KUBE-* chains and the rules using them, KUBE-* ipsets, kube-ipvs0, its virtual servers); fail if any stays',
    `set mode: ${to} in ${details.kubeProxy.configFile} (nothing else in it changes)`,
    `start ${record.argv.join(' ')} (log ${record.logFile}); wait for ${details.kubeProxy.healthzUrl}`,
  ];
}

/** Provider.switchProxyMode for the local provider. */
export async function switchLocalProxyMode(deps: LocalProviderDeps, ctx: ProviderContext, state: ClusterState, to: string, record: (state: ClusterState) => Promise<void>): Promise<{ state: ClusterState; lines: string[] }> {
  const details = readLocalDetails(state.details, 'the state file');
  const old = kubeProxyRecord(details);
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    ctx.progress(line);
    ctx.log.write(line);
  };
  const configText = await readFile(details.kubeProxy.configFile, 'utf8');
  const next = withProxyMode(configText, to);

  const control = deps.control(ctx);
  const stopped = await stopRecorded(control, old);
  say(describeStop(stopped));
  if (stopped.result === 'left' || stopped.decision.action === 'refuse') {
    throw new LocalUpError(ExitCode.failed, `kube-proxy could not be stopped: ${describeStop(stopped)}`, { hint: 'nothing else was changed; `local-up down` stops the cluster' });
  }
  const withoutProxy = (components: LocalDetails['components']) => components.filter((c) => c.name !== 'kube-proxy');

  const cleanup = await runKubeProxyCleanup(ctx.runner, details.kubeProxy.cleanupArgv, ctx.env);
  say(cleanup.ok ? `${cleanup.command}: done` : `${cleanup.command} FAILED: ${cleanup.detail}`);

  const { removal, leftovers } = await removeWhatCleanupLeft(hostFor(ctx), details.serviceCidr, (line) => ctx.log.write(line), ctx.progress);
  if (removal === null) say(`no state of the old mode was left on this host`);
  else {
    say('the old mode\'s cleanup left some of its state; local-up removed it itself:');
    for (const line of formatRemoval(removal)) say(line);
  }
  if (!leftovers.clean) {
    throw new LocalUpError(ExitCode.failed, `the old mode's state could not be removed from this host`, {
      details: formatLeftoverReport(leftovers),
      hint: 'kube-proxy is stopped and its configuration unchanged; `local-up down` stops the cluster and retries the removal',
    });
  }

  await writeFile(details.kubeProxy.configFile, next);
  say(`${details.kubeProxy.configFile}: mode ${to}`);
  const switched = (components: LocalDetails['components']): ClusterState => ({
    ...state,
    proxyMode: to,
    details: { ...details, components, kubeProxy: { ...details.kubeProxy, mode: to }, requiredVirtualServers: to === 'ipvs' ? details.requiredVirtualServers : [] },
  });
  // Recorded before the start: a crash from here on leaves a state file that says what runs.
  await record(switched(withoutProxy(details.components)));

  const supervisor = new Supervisor({ control, http: deps.http, log: (line) => ctx.log.write(line) });
  const started = supervisor.start('kube-proxy', old.argv, old.logFile, ctx.env);
  const components = [...withoutProxy(details.components), started];
  await record(switched(components));
  await supervisor.waitHealthy(started, { url: details.kubeProxy.healthzUrl, expect: 'status-200' }, { timeoutMs: ctx.settings.readyTimeout * 1000, signal: ctx.signal });
  say(`kube-proxy (pid ${started.pid}) is ready in ${to} mode's configuration (${details.kubeProxy.healthzUrl})`);
  return { state: switched(components), lines };
}
