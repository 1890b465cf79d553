// The local provider: local-up-cluster.sh's job as host processes on
// containerd. etcd → kube-apiserver → kube-controller-manager → kube-scheduler
// → kubelet → node Ready → kube-proxy (/healthz) → CoreDNS, each
// step waiting for real readiness, every process in its own group with its own
// log, recorded in the state file as it starts; destroy() stops them in reverse,
// runs `kube-proxy --cleanup` and proves the host is clean.
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import type { KubeVersion } from '../../config/kube-version.js';
import { formatKubeVersion } from '../../config/kube-version.js';
import type { Settings } from '../../config/settings.js';
import { check } from '../../doctor/check.js';
import { ExitCode, LocalUpError, isLocalUpError } from '../../errors.js';
import type { Host } from '../../exec/host.js';
import { CommandHost, LocalHost } from '../../exec/host.js';
import { findExecutable } from '../../exec/which.js';
import { Kubectl, findKubectl, isDeploymentAvailable, kubectlMissing } from '../../kube/kubectl.js';
import { elevatedArgv } from '../../kernel/load.js';
import { PROC_IP_VS } from '../../ipvs/live.js';
import type { IpvsTable } from '../../ipvs/model.js';
import { readProcIpvs } from '../../ipvs/read-proc.js';
import type { ClusterState } from '../../state/state-file.js';
import { pollUntil } from '../../exec/wait.js';
import type { InstallManifest } from '../../tools/layout.js';
import { toolSetBinDir } from '../../tools/layout.js';
import { listInstalled, readInstalledSet } from '../../tools/install.js';
import type { ClusterNode, ConfiguredMode, Provider, ProviderContext, ProviderDetails } from '../provider.js';
import type { FoundBinary, LocalBinary, VersionVerdict } from './binaries.js';
import { DEFAULT_ETCD_MIN_VERSION, KUBE_BINARIES, checkBinaryVersions, goPlatform, locateBinaries, parseEtcdScriptVersion, pickBinary, searchPlaces, statExecutable } from './binaries.js';
import { COREDNS_DEPLOYMENT, DNS_NAMESPACE } from './coredns.js';
import type { LocalDetails } from './details.js';
import { readLocalDetails } from './details.js';
import { formatLeftoverReport, readHostNetworkState } from './host-state.js';
import type { HttpClient } from './http.js';
import { NodeHttpClient } from './http.js';
import { renderKubeconfig, serverUrl } from './kubeconfig.js';
import { caCertPath, certPath, ensurePki, keyPath } from './pki.js';
import type { ComponentPlan, LocalPlan } from './plan.js';
import { COMPONENTS, componentEnv, planLayout, planLocalCluster } from './plan.js';
import { BRIDGE_CONFLIST, evaluateLocalPreflight, gatherLocalPreflight, renderBridgeConflist } from './preflight.js';
import type { ProcessControl, ProcessRecord } from './process.js';
import { LocalProcessControl, readIdentity } from './process.js';
import { Supervisor, readLogTail } from './supervisor.js';
import type { TeardownReport } from './teardown.js';
import { teardownLocal } from './teardown.js';
import { diedError, watchComponents } from './watch.js';
import { missingVirtualServers, requiredVirtualServers } from './required-ipvs.js';

const READY_POLL_MS = 1_000;
const HEALTHZ_TIMEOUT_MS = 3_000;
const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/** The effects the provider uses, replaceable in tests. */
export interface LocalProviderDeps {
  readonly control: (ctx: Pick<ProviderContext, 'runner' | 'uid' | 'env'>) => ProcessControl;
  readonly http: HttpClient;
  /** Running processes as (pid, command line), for exists() and a destroy() without a state file. */
  readonly listProcesses: () => { pid: number; cmdline: readonly string[] }[];
  /** This host's IPVS table (/proc/net/ip_vs), or null when ip_vs is not loaded. */
  readonly readIpvsTable: (ctx: Pick<ProviderContext, 'runner' | 'settings'>) => Promise<IpvsTable | null>;
}

export const defaultLocalDeps: LocalProviderDeps = {
  control: (ctx) => new LocalProcessControl({ runner: ctx.runner, sudo: ctx.uid === 0 ? null : findExecutable('sudo', ctx.env) }),
  http: new NodeHttpClient(),
  listProcesses: () => {
    const out: { pid: number; cmdline: string[] }[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const identity = readIdentity(Number(name));
      if (identity !== null && identity.state !== 'Z') out.push({ pid: Number(name), cmdline: [...identity.cmdline] });
    }
    return out;
  },
  readIpvsTable: async (ctx) => {
    const text = await new LocalHost(ctx.runner, ctx.settings.hostRoot).readFile(PROC_IP_VS);
    return text === null ? null : readProcIpvs(text);
  },
};

/**
 * What one `up` run found and started (its session: Provider.preflight), handed from preflight to
 * create, then to waitReady, destroy and supervise of the same run.
 */
export interface LocalSession {
  binaries?: readonly FoundBinary[];
  verdict?: VersionVerdict;
  plan?: LocalPlan;
  /** Started by create(): watches the components for crashes while `up` runs. */
  supervisor?: Supervisor;
  details?: LocalDetails;
}

const NEEDED: readonly LocalBinary[] = ['etcd', ...KUBE_BINARIES];

/** The `tools install` sets for KUBE_VERSION (read from TOOLS_DIR; absent ones are null/empty). */
function installedSets(settings: Settings): { kubernetes: InstallManifest | null; kubeBinDir: string | null; etcdBinDirs: string[] } {
  const v = settings.kubeVersion;
  const version = v.patch === null ? null : formatKubeVersion(v);
  const kubernetes = version === null ? null : readInstalledSet(settings.toolsDir, 'kubernetes', version);
  const etcd = listInstalled(settings.toolsDir).filter((s) => s.tool === 'etcd');
  const preferred = kubernetes?.etcdVersion;
  etcd.sort((a, b) => (a.version === preferred ? -1 : b.version === preferred ? 1 : b.version.localeCompare(a.version, 'en', { numeric: true })));
  return { kubernetes, kubeBinDir: kubernetes === null || version === null ? null : toolSetBinDir(settings.toolsDir, 'kubernetes', version), etcdBinDirs: etcd.map((s) => s.binDir) };
}

function searchInput(ctx: Pick<ProviderContext, 'settings' | 'env'>) {
  const installed = installedSets(ctx.settings);
  return {
    kubeBinDir: ctx.settings.kubeBinDir, kubeRoot: ctx.settings.kubeRoot, path: ctx.env.PATH ?? '', platform: goPlatform(process.platform, process.arch),
    installedKubeBinDir: installed.kubeBinDir, installedEtcdBinDirs: installed.etcdBinDirs,
  };
}

/** ETCD_VERSION when set, else the checkout's hack/lib/etcd.sh (or the installed set's record of it), else the script's default. */
export function etcdMinimum(settings: Settings): { version: string; source: string } {
  if (settings.etcdMinVersion !== '') return { version: settings.etcdMinVersion, source: 'ETCD_VERSION' };
  const installed = installedSets(settings);
  if (installed.kubernetes?.etcdVersion !== undefined && settings.kubeRoot === '' && settings.kubeBinDir === '') {
    return { version: installed.kubernetes.etcdVersion, source: `hack/lib/etcd.sh of ${installed.kubernetes.origin}` };
  }
  if (settings.kubeRoot !== '') {
    const file = join(settings.kubeRoot, 'hack', 'lib', 'etcd.sh');
    try {
      const found = parseEtcdScriptVersion(readFileSync(file, 'utf8'));
      if (found !== null) return { version: found, source: `${file}` };
    } catch {
      // No checkout script: the default below.
    }
  }
  return { version: DEFAULT_ETCD_MIN_VERSION, source: "local-up-cluster.sh's default ETCD_VERSION" };
}

/** The binaries' paths without running them (dry run), bare names when not found. */
function binaryPathsNoRun(ctx: Pick<ProviderContext, 'settings' | 'env'>): { paths: Record<LocalBinary, string>; missing: string[] } {
  const input = searchInput(ctx);
  const paths = {} as Record<LocalBinary, string>;
  const missing: string[] = [];
  for (const name of NEEDED) {
    const picked = pickBinary(name, searchPlaces(name, input), statExecutable);
    paths[name] = picked?.path ?? name;
    if (picked === null) missing.push(name);
  }
  return { paths, missing };
}

/** cgroup2fs's magic (linux/magic.h CGROUP2_SUPER_MAGIC): /sys/fs/cgroup of a cgroup v2 host. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Whether this host runs cgroup v1 (or a hybrid): /sys/fs/cgroup is not a cgroup2 file system. */
function hostUsesCgroupV1(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function resolvConfFor(): string {
  return existsSync(SYSTEMD_RESOLV_CONF) ? SYSTEMD_RESOLV_CONF : '/etc/resolv.conf';
}

function planFor(ctx: Pick<ProviderContext, 'settings' | 'clusterDir'>, version: KubeVersion, paths: Readonly<Record<LocalBinary, string>>): LocalPlan {
  return planLocalCluster({ settings: ctx.settings, version, binaries: paths, clusterDir: ctx.clusterDir, resolvConf: resolvConfFor(), hostCgroupV1: hostUsesCgroupV1() });
}

/** The command line a component really runs with: through `sudo -n` when it needs root and we are not. */
export function launchArgv(component: Pick<ComponentPlan, 'argv' | 'root'>, uid: number, env: Readonly<Record<string, string | undefined>>): string[] {
  return component.root ? elevatedArgv(component.argv, { uid, interactive: false, env }).argv : [...component.argv];
}

function kubectlAt(ctx: ProviderContext, kubeconfig: string, signal?: AbortSignal): Kubectl {
  const found = findKubectl(ctx.env);
  if (found.path === null) throw kubectlMissing();
  return new Kubectl({ runner: ctx.runner, path: found.path, kubeconfig, signal: signal ?? ctx.signal, log: (line) => ctx.log.write(`kubectl: ${line}`) });
}

/** Locates the binaries and reads their versions (once per run). */
async function findBinaries(ctx: ProviderContext, session: LocalSession): Promise<{ binaries: readonly FoundBinary[]; verdict: VersionVerdict }> {
  if (session.binaries !== undefined && session.verdict !== undefined) return { binaries: session.binaries, verdict: session.verdict };
  const binaries = await locateBinaries(NEEDED, { ...searchInput(ctx), runner: ctx.runner, signal: ctx.signal });
  const etcd = etcdMinimum(ctx.settings);
  const verdict = checkBinaryVersions({
    binaries,
    kubeVersion: ctx.settings.kubeVersion,
    kubeVersionChosen: ctx.resolved.sources.kubeVersion.source !== 'default',
    etcdMinVersion: etcd.version,
    etcdMinSource: etcd.source,
  });
  session.binaries = binaries;
  session.verdict = verdict;
  return { binaries, verdict };
}

const pathsOf = (binaries: readonly FoundBinary[]): Record<LocalBinary, string> =>
  Object.fromEntries(binaries.map((b) => [b.name, b.path])) as Record<LocalBinary, string>;

async function writeConfigFiles(plan: LocalPlan, settings: Settings): Promise<string[]> {
  await mkdir(plan.layout.configDir, { recursive: true });
  await mkdir(plan.layout.logDir, { recursive: true });
  const written: string[] = [];
  for (const file of plan.files) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.content, { mode: file.mode });
    await chmod(file.path, file.mode);
    written.push(file.path);
  }
  // containerd reads the CNI config; like local-up-cluster.sh, write a bridge network when there is none.
  const existing = (() => {
    try {
      return readdirSync(settings.cniConfigDir).filter((f) => /\.(conf|conflist|json)$/.test(f));
    } catch {
      return [];
    }
  })();
  if (existing.length === 0) {
    await mkdir(settings.cniConfigDir, { recursive: true });
    const conflist = join(settings.cniConfigDir, BRIDGE_CONFLIST);
    await writeFile(conflist, renderBridgeConflist(settings.clusterCidr));
    written.push(conflist);
  }
  return written;
}

/** KUBECONFIG_OUT: the admin identity with everything embedded, 0600. */
async function writeUserKubeconfig(plan: LocalPlan, settings: Settings): Promise<void> {
  const dir = plan.layout.certDir;
  const [caPem, certPem, keyPem] = await Promise.all([readFile(caCertPath(dir), 'utf8'), readFile(certPath(dir, 'client-admin'), 'utf8'), readFile(keyPath(dir, 'client-admin'), 'utf8')]);
  await mkdir(dirname(plan.layout.kubeconfigOut), { recursive: true });
  const text = renderKubeconfig({ server: serverUrl(settings.apiHost, settings.apiSecurePort), clusterName: settings.clusterName, userName: 'admin', credentials: { kind: 'embedded', caPem, certPem, keyPem } });
  await writeFile(plan.layout.kubeconfigOut, text, { mode: 0o600 });
  await chmod(plan.layout.kubeconfigOut, 0o600);
}

function detailsFrom(plan: LocalPlan, settings: Settings, components: readonly ProcessRecord[], cleanupArgv: readonly string[], sudo: boolean, configFiles: readonly string[]): LocalDetails {
  return {
    kind: 'local',
    version: plan.version,
    nodeName: plan.nodeName,
    serviceCidr: settings.serviceCidr,
    layout: plan.layout,
    components: [...components],
    kubeProxy: { configFile: plan.kubeProxy.configFile, mode: plan.kubeProxy.mode, cleanupArgv: [...cleanupArgv], healthzUrl: plan.kubeProxy.healthzUrl, proxyModeUrl: plan.kubeProxy.proxyModeUrl },
    clusterDns: plan.corednsManifest !== null,
    preserveEtcd: settings.preserveEtcd,
    sudo,
    configFiles: [...configFiles],
    requiredVirtualServers:
      plan.kubeProxy.mode === 'ipvs' ? requiredVirtualServers({ firstServiceIp: plan.firstServiceIp, apiSecurePort: settings.apiSecurePort, dnsServerIp: plan.corednsManifest === null ? null : plan.dnsServerIp }) : [],
  };
}

/** local-up-cluster.sh's print_success, for this cluster: configurations, logs, how to use and stop it. */
export function renderClosingMessage(details: LocalDetails, clusterName: string): string[] {
  return [
    `Local Kubernetes cluster "${clusterName}" is running: Kubernetes ${details.version}, kube-proxy in ${details.kubeProxy.mode} mode, node ${details.nodeName}.`,
    'Configurations:',
    ...details.configFiles.map((f) => `  ${f}`),
    `  ${details.layout.certDir} (CA, certificates, keys, component kubeconfigs)`,
    'Logs:',
    ...details.components.map((c) => `  ${c.logFile}`),
    'To use it:',
    `  export KUBECONFIG=${details.layout.kubeconfigOut}`,
    `Stop it with \`local-up down\`: reverse order, then ${details.kubeProxy.cleanupArgv.join(' ')}; etcd's data is ${details.preserveEtcd ? 'kept (PRESERVE_ETCD)' : 'removed'}.`,
  ];
}

function withStep(error: unknown, step: string): unknown {
  if (!isLocalUpError(error)) return error;
  return new LocalUpError(error.exitCode, `${step}: ${error.message}`, { ...(error.hint === undefined ? {} : { hint: error.hint }), ...(error.details === undefined ? {} : { details: error.details }), cause: error });
}

/** Polls `kubectl get nodes` until the node is Ready, watching for crashes. */
async function waitNodeReady(kubectl: Kubectl, nodeName: string, supervisor: Supervisor, ctx: ProviderContext, kubeletLog: string): Promise<void> {
  let last = 'not registered yet';
  const result = await pollUntil(
    async () => {
      if (supervisor.crashed !== null) return { done: true, value: false };
      try {
        const node = (await kubectl.nodes()).find((n) => n.name === nodeName);
        last = node === undefined ? 'not registered yet' : node.ready ? 'Ready' : 'registered, not Ready';
        return { done: node?.ready === true, value: node?.ready === true };
      } catch (error) {
        if (!isLocalUpError(error) || error.exitCode === ExitCode.interrupted) throw error;
        last = error.message;
        return { done: false, value: false };
      }
    },
    { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
  );
  await supervisor.throwIfCrashed(`while kube-local-up waited for node ${nodeName} to become Ready`);
  if (!result.value) {
    const logTail = await readLogTail(kubeletLog);
    throw new LocalUpError(ExitCode.failed, `node ${nodeName} did not become Ready within ${ctx.settings.readyTimeout}s (READY_TIMEOUT): ${last}`, {
      details: logTail === '' ? `(${kubeletLog} is empty)` : `last lines of ${kubeletLog}:\n${logTail}`,
      hint: 'the kubelet log usually names the cause: the container runtime socket, the CNI config, cgroup driver (CGROUP_DRIVER)',
    });
  }
  ctx.progress(`node ${nodeName} is Ready`);
}

/** IPVS mode: polls this host's table until the kubernetes and kube-dns virtual servers are all there. */
async function waitRequiredVirtualServers(ctx: ProviderContext, details: LocalDetails, deps: LocalProviderDeps, supervisor: Supervisor | undefined): Promise<void> {
  let problems: string[] = [];
  const result = await pollUntil(
    async () => {
      if (supervisor?.crashed != null) return { done: true, value: false };
      const table = await deps.readIpvsTable(ctx);
      problems = table === null ? [`${PROC_IP_VS} does not exist: the ip_vs module is not loaded, so kube-proxy programmed nothing`] : missingVirtualServers(table, details.requiredVirtualServers);
      return { done: problems.length === 0, value: problems.length === 0 };
    },
    { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
  );
  await supervisor?.throwIfCrashed('while kube-local-up read the IPVS table');
  if (!result.value) {
    const kubeProxyLog = details.components.find((c) => c.name === 'kube-proxy')?.logFile ?? '';
    const logTail = await readLogTail(kubeProxyLog);
    throw new LocalUpError(ExitCode.failed, `this host's IPVS table lacks what kube-proxy must program within ${ctx.settings.readyTimeout}s (READY_TIMEOUT)`, {
      details: [...problems, '', `last lines of ${kubeProxyLog}:`, logTail].join('\n'),
      hint: 'kube-proxy\'s log says why; `ipvsadm -Ln` shows the table',
    });
  }
  ctx.progress(`IPVS: ${details.requiredVirtualServers.map((v) => `${v.protocol}/${v.address}:${v.port}`).join(', ')} programmed`);
}

async function applyManifest(kubectl: Kubectl, file: string, what: string): Promise<void> {
  await kubectl.text(['apply', '-f', file], `applying ${what} (${file})`);
}

function hostFor(ctx: Pick<ProviderContext, 'runner' | 'uid' | 'env' | 'settings'>): Host {
  if (ctx.uid === 0) return new LocalHost(ctx.runner, ctx.settings.hostRoot);
  // ipset and iptables-save need root.
  return new CommandHost('this machine (sudo)', ctx.runner, [findExecutable('sudo', ctx.env) ?? 'sudo', '-n']);
}

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

/** The local provider; supervise() is required here (optional in the Provider interface): `up` calls it unless --detach. */
export interface LocalProvider extends Provider<LocalSession> {
  /**
   * Keeps the cluster in the foreground: returns 'interrupted' after `signal` aborts (Ctrl-C) and the
   * cluster was stopped (reverse order, kube-proxy --cleanup, host check); when a component dies, stops
   * everything and throws an error naming it, with its log tail.
   */
  supervise(ctx: ProviderContext, state: ClusterState, signal: AbortSignal, session?: LocalSession): Promise<'interrupted'>;
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

    async create(ctx, session, record) {
      const { binaries, verdict } = await findBinaries(ctx, session);
      if (verdict.version === null || verdict.errors.length > 0) {
        throw new LocalUpError(ExitCode.unavailable, 'the local provider cannot use these binaries', { details: verdict.errors.join('\n'), hint: 'fix them and run up again (`local-up up --dry-run` shows where each is looked for)' });
      }
      for (const note of [...verdict.notes, ...verdict.warnings]) ctx.progress(note);
      const plan = planFor(ctx, verdict.version, pathsOf(binaries));
      session.plan = plan;
      const sudo = ctx.uid !== 0;
      const cleanupArgv = launchArgv({ argv: plan.kubeProxy.cleanupArgv, root: true }, ctx.uid, ctx.env);

      const configFiles = await writeConfigFiles(plan, ctx.settings);
      const openssl = findExecutable('openssl', ctx.env);
      if (openssl === null) throw new LocalUpError(ExitCode.unavailable, 'openssl not found on PATH', { hint: 'install it: apt-get install openssl' });
      ctx.progress(`PKI in ${plan.layout.certDir}`);
      const pki = await ensurePki(plan.pki, ctx.settings.reuseCerts, { runner: ctx.runner, openssl, signal: ctx.signal });
      for (const note of pki.notes) ctx.progress(note);
      ctx.log.write(`PKI: generated ${pki.generated.join(', ') || 'nothing'}; reused ${pki.reused.join(', ') || 'nothing'}`);
      await writeUserKubeconfig(plan, ctx.settings);

      const control = deps.control(ctx);
      const supervisor = new Supervisor({ control, http: deps.http, log: (line) => ctx.log.write(line) });
      session.supervisor = supervisor;
      const save = async () => {
        const details = detailsFrom(plan, ctx.settings, supervisor.records, cleanupArgv, sudo, configFiles);
        session.details = details;
        await record(details as unknown as ProviderDetails);
      };
      await save();
      const kubectl = kubectlAt(ctx, plan.layout.adminKubeconfig);
      const timeoutMs = ctx.settings.readyTimeout * 1000;
      supervisor.onCrash((report) => ctx.log.write(`${report.record.name} stopped on its own; up will stop`));

      for (const component of plan.components) {
        if (component.name === 'kube-proxy') {
          try {
            await waitNodeReady(kubectl, plan.nodeName, supervisor, ctx, plan.components.find((c) => c.name === 'kubelet')?.logFile ?? '');
          } catch (error) {
            throw withStep(error, 'before kube-proxy');
          }
        }
        ctx.progress(`starting ${component.name}`);
        const started = supervisor.start(component.name, launchArgv(component, ctx.uid, ctx.env), component.logFile, componentEnv(ctx.env, component));
        await save();
        await supervisor.waitHealthy(started, component.health, { timeoutMs, signal: ctx.signal });
        ctx.progress(`${component.name} is ready (pid ${started.pid})`);
        if (component.name === 'kube-apiserver') await applyManifest(kubectl, plan.bootstrapManifest, 'the kube-apiserver-kubelet-admin ClusterRoleBinding');
      }
      if (plan.corednsManifest !== null) {
        await applyManifest(kubectl, plan.corednsManifest, 'CoreDNS');
        ctx.progress(`applied CoreDNS (kube-dns ${plan.dnsServerIp})`);
      }
      await supervisor.throwIfCrashed('after start-up');
      return session.details as unknown as ProviderDetails;
    },

    async waitReady(ctx, state, session) {
      const details = readLocalDetails(state.details, 'the state file');
      const supervisor = session.supervisor;
      const kubectl = kubectlAt(ctx, details.layout.adminKubeconfig);
      // kube-proxy must still be healthy (it was when create() returned).
      const healthz = await deps.http.get(details.kubeProxy.healthzUrl, { timeoutMs: HEALTHZ_TIMEOUT_MS });
      if (!healthz.ok || healthz.status !== 200) {
        throw new LocalUpError(ExitCode.failed, `kube-proxy's ${details.kubeProxy.healthzUrl} does not answer 200 (${healthz.ok ? `HTTP ${healthz.status}` : healthz.error})`, { hint: 'see kube-proxy.log in LOG_DIR' });
      }
      if (details.clusterDns) {
        let last = 'the Deployment does not exist yet';
        const result = await pollUntil(
          async () => {
            if (supervisor?.crashed != null) return { done: true, value: false };
            try {
              const deployment = await kubectl.getJson(['-n', DNS_NAMESPACE, 'deployment', COREDNS_DEPLOYMENT], `reading deployment ${DNS_NAMESPACE}/${COREDNS_DEPLOYMENT}`);
              const verdict = deployment === null ? { done: false, message: 'the Deployment does not exist' } : isDeploymentAvailable(deployment);
              last = verdict.message;
              return { done: verdict.done, value: verdict.done };
            } catch (error) {
              if (!isLocalUpError(error) || error.exitCode === ExitCode.interrupted) throw error;
              last = error.message;
              return { done: false, value: false };
            }
          },
          { timeoutMs: ctx.settings.readyTimeout * 1000, intervalMs: READY_POLL_MS, signal: ctx.signal },
        );
        await supervisor?.throwIfCrashed('while kube-local-up waited for CoreDNS');
        if (!result.value) {
          const logs = await kubectl.logTail(DNS_NAMESPACE, `deploy/${COREDNS_DEPLOYMENT}`, 30);
          throw new LocalUpError(ExitCode.failed, `CoreDNS did not become available within ${ctx.settings.readyTimeout}s (READY_TIMEOUT): ${last}`, {
            details: logs,
            hint: `its image (${ctx.settings.corednsImage}) must be pullable or already in containerd (COREDNS_IMAGE); KUBE_ENABLE_CLUSTER_DNS=false skips it`,
          });
        }
        ctx.progress('CoreDNS is available');
      }
      if (details.requiredVirtualServers.length > 0) await waitRequiredVirtualServers(ctx, details, deps, supervisor);
      for (const line of renderClosingMessage(details, state.clusterName)) ctx.progress(line);
    },

    async configuredMode(_ctx, state): Promise<ConfiguredMode> {
      const details = readLocalDetails(state.details, 'the state file');
      const doc = YAML.parse(await readFile(details.kubeProxy.configFile, 'utf8')) as { mode?: unknown } | null;
      return { mode: typeof doc?.mode === 'string' ? doc.mode : '', source: details.kubeProxy.configFile };
    },

    async nodes(ctx, state): Promise<ClusterNode[]> {
      const details = readLocalDetails(state.details, 'the state file');
      return [{ name: details.nodeName, host: new LocalHost(ctx.runner, ctx.settings.hostRoot), proxyModePort: ctx.settings.kubeProxyMetricsPort }];
    },

    async destroy(ctx, state, session) {
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
    },

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

/** Lines for the user: what was stopped, kube-proxy --cleanup, what is left on the host, etcd's data. */
export function describeTeardown(report: TeardownReport): string[] {
  const lines: string[] = [];
  if (report.dnsRemoval !== null) lines.push(report.dnsRemoval);
  for (const stop of report.stops) {
    lines.push(
      stop.result === 'stopped' ? `stopped ${stop.name} (pid ${stop.pid})`
      : stop.result === 'killed' ? `killed ${stop.name} (pid ${stop.pid}) after SIGTERM was not enough`
      : stop.result === 'left' ? `${stop.name} (pid ${stop.pid}) is STILL RUNNING`
      : stop.decision.why,
    );
  }
  if (report.cleanup !== null) lines.push(report.cleanup.ok ? `${report.cleanup.command}: done` : `${report.cleanup.command} FAILED: ${report.cleanup.detail}`);
  if (report.leftovers !== null) lines.push(...formatLeftoverReport(report.leftovers).trimEnd().split('\n'));
  lines.push(report.etcdData === 'removed' ? "etcd's data folder was removed" : report.etcdData === 'kept' ? "etcd's data folder was kept (PRESERVE_ETCD)" : "etcd's data folder was already gone");
  return lines;
}

export const localProvider: LocalProvider = makeLocalProvider();
