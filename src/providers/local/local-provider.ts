// The local provider: local-up-cluster.sh's job as host processes on
// containerd. etcd → kube-apiserver → kube-controller-manager → kube-scheduler
// → kubelet → node Ready → kube-proxy (/healthz) → CoreDNS, each
// step waiting for real readiness, every process in its own group with its own
// log, recorded in the state file as it starts; destroy() stops them in reverse,
// runs `kube-proxy --cleanup` and proves the host is clean.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { check } from '../../doctor/check.js';
import { ExitCode, isLocalUpError } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import type { ClusterState } from '../../state/state-file.js';
import type { ClusterNode, ConfiguredMode, Provider, ProviderContext } from '../provider.js';
import { COREDNS_DEPLOYMENT } from './coredns.js';
import { readLocalDetails } from './details.js';
import { readHostNetworkState } from './host-state.js';
import { planLayout } from './plan.js';
import { BRIDGE_CONFLIST, evaluateLocalPreflight, gatherLocalPreflight } from './preflight.js';
import { diedError, watchComponents } from './watch.js';
import type { LocalProviderDeps, LocalSession } from './session.js';
import { defaultLocalDeps, binaryPathsNoRun, planFor, launchArgv, findBinaries, pathsOf, hostFor } from './session.js';
import { startLocalCluster } from './start.js';
import { waitLocalReady } from './ready.js';
import { discoverComponents, stopLocalCluster } from './stop.js';
import { describeLocalSwitch, switchLocalProxyMode } from './switch-mode.js';

/** The local provider; supervise() is required here (optional in the Provider interface): `up` calls it unless --detach. */
export interface LocalProvider extends Provider<LocalSession> {
  /**
   * Keeps the cluster in the foreground: returns 'interrupted' after `signal` aborts (Ctrl-C) and the
   * cluster was stopped (reverse order, kube-proxy --cleanup, host check); when a component dies, stops
   * everything and throws an error naming it, with its log tail.
   */
  supervise(ctx: ProviderContext, state: ClusterState, signal: AbortSignal, session?: LocalSession): Promise<'interrupted'>;
  /** compare-modes: kube-proxy restarted in another mode (see ./switch-mode.ts). */
  switchProxyMode: NonNullable<Provider['switchProxyMode']>;
  describeSwitchProxyMode: NonNullable<Provider['describeSwitchProxyMode']>;
}

export function makeLocalProvider(deps: LocalProviderDeps = defaultLocalDeps): LocalProvider {
  const provider: LocalProvider = {
    name: 'local',

    // Preflight only reads (binaries' versions, containerd, CNI, ports, privileges): doctor shows the same.
    async checks(ctx) {
      return (await provider.preflight(ctx)).checks;
    },

    async preflight(ctx) {
      const session: LocalSession = {};
      let binaries: Parameters<typeof evaluateLocalPreflight>[1]['binaries'];
      let version = ctx.settings.kubeVersion;
      let paths = binaryPathsNoRun(ctx).paths;
      try {
        const found = await findBinaries(ctx, session);
        binaries = { found: found.binaries, verdict: found.verdict };
        if (found.verdict.version !== null) version = found.verdict.version;
        paths = pathsOf(found.binaries);
      } catch (error) {
        if (!isLocalUpError(error) || error.exitCode !== ExitCode.unavailable) throw error;
        binaries = { error: error.message, details: error.details ?? '' };
      }
      const plan = planFor(ctx, version, paths);
      session.plan = plan;
      const facts = await gatherLocalPreflight(ctx.settings, { runner: ctx.runner, env: ctx.env, uid: ctx.uid, binaries, components: plan.components });
      const checks = evaluateLocalPreflight(ctx.settings, facts);
      if (ctx.settings.proxyMode === 'ipvs') {
        checks.push(check('provider.local.kernel', 'Kernel checks (IPVS mode)', 'skip', "run by up itself for every provider (doctor's kernel.* checks); kube-proxy uses this machine's kernel", null));
      }
      for (const warning of plan.warnings) checks.push(check('provider.local.kube-proxy-config', 'kube-proxy configuration', 'warn', warning, null));
      return { checks, session };
    },

    describeCreate(ctx) {
      const { paths, missing } = binaryPathsNoRun(ctx);
      const plan = planFor(ctx, ctx.settings.kubeVersion, paths);
      const uid = ctx.uid;
      const lines: string[] = [];
      if (missing.length > 0) lines.push(`not found yet (KUBE_BIN_DIR, KUBE_ROOT, PATH): ${missing.join(', ')}; up stops at preflight until they are there`);
      lines.push(
        `configuration for Kubernetes ${plan.version} (KUBE_VERSION; up writes it for the version the binaries report)`,
        `PKI in ${plan.layout.certDir} with openssl: CA, ${plan.pki.certs.map((c) => c.id).join(', ')}, service-account key pair${ctx.settings.reuseCerts ? ' (REUSE_CERTS: kept when still valid)' : ''}`,
        `files: ${plan.files.map((f) => f.path).join(', ')}; kubeconfig ${plan.layout.kubeconfigOut}`,
        `CNI: ${ctx.settings.cniConfigDir}/${BRIDGE_CONFLIST} (bridge over ${ctx.settings.clusterCidr}) when ${ctx.settings.cniConfigDir} has no network config`,
      );
      plan.components.forEach((component, i) => {
        lines.push(`${i + 1}. ${component.name}: ${launchArgv(component, uid, ctx.env).join(' ')}`);
        if (component.unsetEnv.length > 0) lines.push(`   environment without ${component.unsetEnv.join(', ')} (etcd would read them as its own flags)`);
        lines.push(`   log ${component.logFile}; ready when ${component.health.url} answers ${component.health.expect === 'etcd-health' ? '{"health":"true"}' : component.health.expect === 'ok' ? '"ok"' : '200'}`);
        if (component.name === 'kube-apiserver') lines.push(`   then: kubectl apply -f ${plan.bootstrapManifest}`);
        if (component.name === 'kubelet') lines.push(`   then: node ${plan.nodeName} Ready (kubectl get nodes)`);
        if (component.name === 'kube-proxy') {
          const config = plan.files.find((f) => f.path === plan.kubeProxy.configFile);
          lines.push(`   ${plan.kubeProxy.configFile}:`, ...(config?.content ?? '').trimEnd().split('\n').map((line) => `     ${line}`));
        }
      });
      if (plan.corednsManifest !== null) lines.push(`${plan.components.length + 1}. CoreDNS: kubectl apply -f ${plan.corednsManifest} (${ctx.settings.corednsImage}, kube-dns ${plan.dnsServerIp}); the next step waits until deployment ${COREDNS_DEPLOYMENT} is Available`);
      lines.push(`stop (Ctrl-C during up, or local-up down): reverse order, then ${launchArgv({ argv: plan.kubeProxy.cleanupArgv, root: true }, uid, ctx.env).join(' ')}, then a check that no IPVS/ipset/iptables/kube-ipvs0 state is left`);
      for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
      return lines;
    },

    async exists(ctx) {
      const layout = planLayout(ctx.settings, ctx.clusterDir);
      return discoverComponents(deps.listProcesses(), layout).length > 0;
    },

    create: (ctx, session, record) => startLocalCluster(deps, ctx, session, record),

    waitReady: (ctx, state, session) => waitLocalReady(deps, ctx, state, session),

    async configuredMode(_ctx, state): Promise<ConfiguredMode> {
      const details = readLocalDetails(state.details, 'the state file');
      const doc = YAML.parse(await readFile(details.kubeProxy.configFile, 'utf8')) as { mode?: unknown } | null;
      return { mode: typeof doc?.mode === 'string' ? doc.mode : '', source: details.kubeProxy.configFile };
    },

    async nodes(ctx, state): Promise<ClusterNode[]> {
      const details = readLocalDetails(state.details, 'the state file');
      return [{ name: details.nodeName, host: new LocalHost(ctx.runner, ctx.settings.hostRoot), proxyModePort: ctx.settings.kubeProxyMetricsPort }];
    },

    destroy: (ctx, state, session) => stopLocalCluster(deps, ctx, state, session),

    switchProxyMode: (ctx, state, to, record) => switchLocalProxyMode(deps, ctx, state, to, record),

    describeSwitchProxyMode: (state, to) => describeLocalSwitch(state, to),

    async collectLogs(ctx, state, dir) {
      const details = readLocalDetails(state.details, 'the state file');
      const written: string[] = [];
      await mkdir(join(dir, 'local'), { recursive: true });
      for (const file of [...details.components.map((c) => c.logFile), ...details.configFiles]) {
        const target = join(dir, 'local', file.split('/').pop() ?? 'file');
        try {
          await copyFile(file, target);
          written.push(target);
        } catch (error) {
          const note = `${target}.error.txt`;
          await writeFile(note, `${file}: ${(error as Error).message}\n`);
          written.push(note);
        }
      }
      const stateNow = await readHostNetworkState(hostFor(ctx));
      const hostFile = join(dir, 'local', 'host-network-state.txt');
      await writeFile(
        hostFile,
        [
          `# kube-ipvs0: ${stateNow.kubeIpvs0.present ? stateNow.kubeIpvs0.addresses.join(', ') || '(no addresses)' : 'absent'}`,
          `# ${stateNow.ipsetNames.command}`,
          stateNow.ipsetNames.text ?? `(${stateNow.ipsetNames.error ?? 'not installed'})`,
          ...stateNow.iptablesSaves.flatMap((r) => [`# ${r.command}`, r.text ?? `(${r.missing === true ? 'not installed' : (r.error ?? 'failed')})`]),
          `# ${stateNow.nftTables.command}`,
          stateNow.nftTables.text ?? `(${stateNow.nftTables.missing === true ? 'not installed' : (stateNow.nftTables.error ?? 'failed')})`,
        ].join('\n'),
      );
      written.push(hostFile);
      return written;
    },

    async supervise(ctx, state, signal, session) {
      const details = readLocalDetails(state.details, 'the state file');
      ctx.progress('Local Kubernetes cluster is running. Press Ctrl-C to shut it down.');
      const outcome = await watchComponents(deps.control(ctx), details.components, signal);
      const stopCtx = { ...ctx, signal: new AbortController().signal };
      if (outcome.kind === 'interrupted') {
        await provider.destroy(stopCtx, state, session);
        return 'interrupted';
      }
      ctx.progress(`${outcome.record.name} (pid ${outcome.record.pid}) terminated unexpectedly, see ${outcome.record.logFile}; stopping the cluster`);
      const error = await diedError(outcome.record);
      try {
        await provider.destroy(stopCtx, state, session);
      } catch (stopError) {
        ctx.log.write(`stopping after ${outcome.record.name} died: ${(stopError as Error).message}`);
      }
      throw error;
    },
  };
  return provider;
}

export const localProvider: LocalProvider = makeLocalProvider();
