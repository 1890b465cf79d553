// What the local provider's steps share within one `up` run: the effects it uses
// (replaceable in tests), the session preflight hands to create, and the helpers that
// locate the binaries and plan the cluster.
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubeVersion } from '../../config/kube-version.js';
import { formatKubeVersion } from '../../config/kube-version.js';
import type { Settings } from '../../config/settings.js';
import type { Host } from '../../exec/host.js';
import { CommandHost, LocalHost } from '../../exec/host.js';
import { findExecutable } from '../../exec/which.js';
import { Kubectl, findKubectl, kubectlMissing } from '../../kube/kubectl.js';
import { elevatedArgv } from '../../kernel/load.js';
import { PROC_IP_VS } from '../../ipvs/live.js';
import type { IpvsTable } from '../../ipvs/model.js';
import { readProcIpvs } from '../../ipvs/read-proc.js';
import type { InstallManifest } from '../../tools/layout.js';
import { toolSetBinDir } from '../../tools/layout.js';
import { listInstalled, readInstalledSet } from '../../tools/install.js';
import type { ProviderContext } from '../provider.js';
import type { FoundBinary, LocalBinary, VersionVerdict } from './binaries.js';
import { DEFAULT_ETCD_MIN_VERSION, KUBE_BINARIES, checkBinaryVersions, goPlatform, locateBinaries, parseEtcdScriptVersion, pickBinary, searchPlaces, statExecutable } from './binaries.js';
import type { LocalDetails } from './details.js';
import type { HttpClient } from './http.js';
import { NodeHttpClient } from './http.js';
import type { ComponentPlan, LocalPlan } from './plan.js';
import { planLocalCluster } from './plan.js';
import type { ProcessControl } from './process.js';
import { LocalProcessControl, readIdentity } from './process.js';
import { Supervisor } from './supervisor.js';

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

export type InstalledSets = ReturnType<typeof installedSets>;

function searchInput(ctx: Pick<ProviderContext, 'settings' | 'env'>, installed: InstalledSets = installedSets(ctx.settings)) {
  return {
    kubeBinDir: ctx.settings.kubeBinDir, kubeRoot: ctx.settings.kubeRoot, path: ctx.env.PATH ?? '', platform: goPlatform(process.platform, process.arch),
    installedKubeBinDir: installed.kubeBinDir, installedEtcdBinDirs: installed.etcdBinDirs,
  };
}

/**
 * ETCD_VERSION when set, else the checkout's hack/lib/etcd.sh (or the installed set's record of it), else the script's default.
 * KUBE_BIN_DIR naming the installed set's own folder is that set: its record applies (1.34.11's etcd.sh asks for 3.6.5,
 * older than the default 3.6.10).
 */
export function etcdMinimum(settings: Pick<Settings, 'etcdMinVersion' | 'kubeRoot' | 'kubeBinDir'>, installed: Pick<InstalledSets, 'kubernetes' | 'kubeBinDir'>): { version: string; source: string } {
  if (settings.etcdMinVersion !== '') return { version: settings.etcdMinVersion, source: 'ETCD_VERSION' };
  const binDirIsInstalledSet = settings.kubeBinDir === '' || (installed.kubeBinDir !== null && resolve(settings.kubeBinDir) === resolve(installed.kubeBinDir));
  if (installed.kubernetes?.etcdVersion !== undefined && settings.kubeRoot === '' && binDirIsInstalledSet) {
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
export function binaryPathsNoRun(ctx: Pick<ProviderContext, 'settings' | 'env'>): { paths: Record<LocalBinary, string>; missing: string[] } {
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

export function planFor(ctx: Pick<ProviderContext, 'settings' | 'clusterDir'>, version: KubeVersion, paths: Readonly<Record<LocalBinary, string>>): LocalPlan {
  return planLocalCluster({ settings: ctx.settings, version, binaries: paths, clusterDir: ctx.clusterDir, resolvConf: resolvConfFor(), hostCgroupV1: hostUsesCgroupV1() });
}

/** The command line a component really runs with: through `sudo -n` when it needs root and we are not. */
export function launchArgv(component: Pick<ComponentPlan, 'argv' | 'root'>, uid: number, env: Readonly<Record<string, string | undefined>>): string[] {
  return component.root ? elevatedArgv(component.argv, { uid, interactive: false, env }).argv : [...component.argv];
}

export function kubectlAt(ctx: ProviderContext, kubeconfig: string, signal?: AbortSignal): Kubectl {
  const found = findKubectl(ctx.env);
  if (found.path === null) throw kubectlMissing();
  return new Kubectl({ runner: ctx.runner, path: found.path, kubeconfig, timeoutMs: ctx.settings.kubectlTimeout * 1000, signal: signal ?? ctx.signal, log: (line) => ctx.log.write(`kubectl: ${line}`) });
}

/** Locates the binaries and reads their versions (once per run). */
export async function findBinaries(ctx: ProviderContext, session: LocalSession): Promise<{ binaries: readonly FoundBinary[]; verdict: VersionVerdict }> {
  if (session.binaries !== undefined && session.verdict !== undefined) return { binaries: session.binaries, verdict: session.verdict };
  // TOOLS_DIR is read once: the same sets decide where binaries are found and etcd's minimum.
  const installed = installedSets(ctx.settings);
  const binaries = await locateBinaries(NEEDED, { ...searchInput(ctx, installed), runner: ctx.runner, signal: ctx.signal });
  const etcd = etcdMinimum(ctx.settings, installed);
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

export const pathsOf = (binaries: readonly FoundBinary[]): Record<LocalBinary, string> =>
  Object.fromEntries(binaries.map((b) => [b.name, b.path])) as Record<LocalBinary, string>;

export function hostFor(ctx: Pick<ProviderContext, 'runner' | 'uid' | 'env' | 'settings'>): Host {
  if (ctx.uid === 0) return new LocalHost(ctx.runner, ctx.settings.hostRoot);
  // ipset and iptables-save need root.
  return new CommandHost('this machine (sudo)', ctx.runner, [findExecutable('sudo', ctx.env) ?? 'sudo', '-n']);
}
