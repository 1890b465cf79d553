import { formatKubeVersion } from '../../config/kube-version.js';
import type { Settings } from '../../config/settings.js';
import { ExitCode, usageError } from '../../errors.js';
import { KIND_SHA256, KIND_VERSION, kindAssetName } from '../../providers/kind/release.js';
import { installKind } from '../../providers/kind/tools.js';
import type { InstallOutcome, ToolsContext } from '../../tools/install.js';
import { buildKind, installEtcd, installKubernetes, readInstalledSet } from '../../tools/install.js';
import { toolSetBinDir } from '../../tools/layout.js';
import { DEFAULT_ETCD_MIN_VERSION } from '../../providers/local/binaries.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';
import type { Io } from '../../io/io.js';
import { runSteps } from '../../steps/progress.js';

const TOOLS = ['kubernetes', 'etcd', 'kind'] as const;

export const command: CommandModule = {
  usage: 'kubernetes|etcd|kind [--from-source] [--version V] [setting flags]',
  description: `Installs real binaries into TOOLS_DIR, never at npm install time. Each install is
assembled in a hidden partial folder and moved into place only after every binary answered
with the right version; a failure, a full disk or Ctrl-C keeps nothing half-done.

kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
  kubectl and kubeadm of KUBE_VERSION (--k8s-version) into TOOLS_DIR/kubernetes-V/bin, from the
  official server archive (KUBE_DOWNLOAD_BASE/vV/kubernetes-server-linux-<arch>.tar.gz, checked
  against its published SHA-512 while it streams in), or with --from-source built here with Go
  from the Go module proxy at exactly V, version-stamped as a release build is (Go's caches in
  GO_CACHE_DIR; a first build takes many minutes, a second reuses them). The local provider uses
  this set when KUBE_ROOT and KUBE_BIN_DIR are unset. Prints the KUBE_BIN_DIR= line to use it.
etcd: etcd of --version (default: the version the installed Kubernetes set's hack/lib/etcd.sh
  names, else ${DEFAULT_ETCD_MIN_VERSION}) into TOOLS_DIR/etcd-V/bin, from ETCD_DOWNLOAD_BASE (SHA256SUMS) or
  --from-source (go.etcd.io/etcd/server/v3).
kind: the pinned kind ${KIND_VERSION} downloaded for this OS/arch from KIND_DOWNLOAD_BASE, SHA-256
  checked against the value pinned in kube-local-up (${Object.keys(KIND_SHA256).join(', ')}), kept as
  TOOLS_DIR/kind-${KIND_VERSION}; or --from-source: built from sigs.k8s.io/kind@${KIND_VERSION} into
  TOOLS_DIR/kind-source-${KIND_VERSION}/bin.

Exit codes: 0 installed (or already there), 2 a version that does not exist or bad usage,
3 the machine lacks something (Go, the network, disk space, a matching checksum), 130 interrupted.`,
  options: {
    'from-source': { type: 'boolean', description: 'build with Go from the Go module proxy instead of downloading a release archive' },
    version: { type: 'string', value: 'V', description: 'etcd: the etcd release (kubernetes: use --k8s-version)' },
  },
  positionals: { min: 1, max: 1 },
  settings: true,
  async run(io, commandLine) {
    const tool = commandLine.positionals[0] ?? '';
    if (!(TOOLS as readonly string[]).includes(tool)) throw usageError(`tools install: unknown tool ${JSON.stringify(tool)}`, `tools it installs: ${TOOLS.join(', ')}`);
    const { values: settings } = settingsFor(io, commandLine);
    const fromSource = flagOption(commandLine.values, 'from-source');
    const versionOption = stringOption(commandLine.values, 'version');
    if (versionOption !== undefined && tool !== 'etcd') {
      throw usageError(`tools install ${tool} does not take --version`, tool === 'kubernetes' ? 'choose the Kubernetes release with --k8s-version V (or KUBE_VERSION)' : `kind is pinned at ${KIND_VERSION}`);
    }
    if (tool === 'kind' && !fromSource) return installDownloadedKind(io, settings);

    const outcome = await runInstall(io, settings, tool as (typeof TOOLS)[number], fromSource, versionOption);
    const how = outcome.manifest.source === 'source' ? `built from ${outcome.manifest.origin}${outcome.manifest.go === undefined ? '' : ` with ${outcome.manifest.go}`}` : `from ${outcome.manifest.origin}, checksum verified`;
    io.out(outcome.installed
      ? `installed ${tool} ${outcome.version} in ${outcome.binDir} (${how}; ${outcome.seconds}s): ${outcome.manifest.binaries.map((b) => b.name).join(', ')}\n`
      : `${tool} ${outcome.version} is already installed in ${outcome.binDir} (${how})\n`);
    if (tool === 'kubernetes') io.out(`KUBE_BIN_DIR=${outcome.binDir}\n`);
    if (tool === 'etcd') io.out(`etcd: ${outcome.binDir}/etcd (the local provider finds it there for KUBE_VERSION's set; or put ${outcome.binDir} on PATH)\n`);
    return ExitCode.ok;
  },
};

function toolsContext(io: Io, settings: Settings, progress: (line: string) => void): ToolsContext {
  return { runner: io.runner, env: io.env, signal: io.signal, toolsDir: settings.toolsDir, goCacheDir: settings.goCacheDir, goBinary: settings.goBinary, progress };
}

async function runInstall(io: Io, settings: Settings, tool: 'kubernetes' | 'etcd' | 'kind', fromSource: boolean, versionOption: string | undefined): Promise<InstallOutcome> {
  let outcome: InstallOutcome | undefined;
  const k8s = settings.kubeVersion;
  const etcdVersion = (versionOption ?? '').replace(/^v/, '') || defaultEtcdVersion(settings);
  // Already there: say so, without a "Build ..." step that builds nothing.
  const version = tool === 'kubernetes' ? (k8s.patch === null ? null : formatKubeVersion(k8s)) : tool === 'etcd' ? etcdVersion : KIND_VERSION;
  const existing = version === null ? null : readInstalledSet(settings.toolsDir, tool, version);
  if (existing !== null && version !== null) {
    return { tool, version, binDir: toolSetBinDir(settings.toolsDir, tool, version), installed: false, manifest: existing, seconds: 0 };
  }
  const title = tool === 'kubernetes'
    ? `${fromSource ? 'Build' : 'Download'} Kubernetes ${formatKubeVersion(k8s)}`
    : tool === 'etcd' ? `${fromSource ? 'Build' : 'Download'} etcd ${etcdVersion}` : `Build kind ${KIND_VERSION}`;
  await runSteps(io, [{
    title,
    run: async (_context: null, progress: (line: string) => void) => {
      const ctx = toolsContext(io, settings, progress);
      if (tool === 'kubernetes') outcome = await installKubernetes(ctx, k8s, { fromSource, downloadBase: settings.kubeDownloadBase });
      else if (tool === 'etcd') outcome = await installEtcd(ctx, etcdVersion, { fromSource, downloadBase: settings.etcdDownloadBase });
      else outcome = await buildKind(ctx, KIND_VERSION);
    },
  }], null);
  if (outcome === undefined) throw new Error('install finished without a result');
  return outcome;
}

/** The etcd that KUBE_VERSION's own hack/lib/etcd.sh names, when that set is installed from source. */
function defaultEtcdVersion(settings: Settings): string {
  const v = settings.kubeVersion;
  const set = v.patch === null ? null : readInstalledSet(settings.toolsDir, 'kubernetes', formatKubeVersion(v));
  return set?.etcdVersion ?? DEFAULT_ETCD_MIN_VERSION;
}

async function installDownloadedKind(io: Io, settings: Settings): Promise<number> {
  const asset = kindAssetName(process.platform, process.arch);
  if (asset !== null) io.err(`downloading kind ${KIND_VERSION} (${asset}) from ${settings.kindDownloadBase} ...\n`);
  const result = await installKind(settings, io.env, { signal: io.signal });
  io.out(result.downloaded
    ? `installed kind ${KIND_VERSION} at ${result.path} (from ${result.url}, SHA-256 ${result.sha256} verified)\n`
    : `kind ${KIND_VERSION} is already installed at ${result.path}\n`);
  return ExitCode.ok;
}
