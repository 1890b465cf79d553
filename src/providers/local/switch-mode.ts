// compare-modes on a local cluster: switch the running kube-proxy to another mode
// the way an operator would. Stop it; run the old mode's cleanup as kube-proxy
// documents it (`kube-proxy --cleanup`, with the configuration it ran with), plus
// the IPv6 IPVS ipsets that cleanup is known to leave (src/migrate/leftovers.ts);
// set `mode` in the KubeProxyConfiguration up wrote (nothing else changes); start it
// again with the same command line and wait for its /healthz. The state file follows
// each step (the new pid as soon as it exists).
import { readFile, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ExitCode, LocalUpError, usageError } from '../../errors.js';
import { tail } from '../../exec/runner.js';
import { IPVS_IPSETS_IPV6 } from '../../migrate/leftovers.js';
import { ipsetNames } from '../../migrate/leftovers.js';
import type { ClusterState } from '../../state/state-file.js';
import type { ProviderContext } from '../provider.js';
import type { LocalDetails } from './details.js';
import { readLocalDetails } from './details.js';
import type { LocalProviderDeps } from './session.js';
import { hostFor } from './session.js';
import { Supervisor, describeStop, stopRecorded } from './supervisor.js';
import { runKubeProxyCleanup } from './teardown.js';

const IPSET_TIMEOUT_MS = 20_000;

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
    `ipset destroy each IPv6 IPVS ipset that cleanup leaves (${IPVS_IPSETS_IPV6[0] ?? ''}, ...)`,
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

  const host = hostFor(ctx);
  const sets = await host.run('ipset', ['list', '-n'], { timeoutMs: IPSET_TIMEOUT_MS });
  if (sets.exitCode === 0) {
    const left = ipsetNames(sets.stdout).filter((name) => IPVS_IPSETS_IPV6.includes(name));
    for (const name of left) {
      const destroyed = await host.run('ipset', ['destroy', name], { timeoutMs: IPSET_TIMEOUT_MS });
      say(destroyed.exitCode === 0 ? `ipset destroy ${name}: done` : `ipset destroy ${name} FAILED: ${tail(destroyed.stderr, 2).trim()}`);
    }
    if (left.length === 0) say('no IPv6 IPVS ipset was left');
  } else say(`ipsets not read (${sets.command} exited ${sets.exitCode ?? sets.signal ?? '?'}: ${tail(sets.stderr, 2).trim()})`);

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
