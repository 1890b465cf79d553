// Finds the binaries the local provider runs, the way local-up-cluster.sh does
// (a prebuilt folder, a Kubernetes checkout's output folders, PATH), reads each
// one's --version and checks they belong together. The search plan and the
// version rules are pure; only locateBinaries() touches the disk and runs them.
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { formatKubeVersion, parseKubeVersion } from '../../config/kube-version.js';
import type { KubeVersion } from '../../config/kube-version.js';
import { ExitCode, LocalUpError, unavailableError } from '../../errors.js';
import type { Runner } from '../../exec/runner.js';
import { describeFailure } from '../../exec/runner.js';
import { reached, since } from '../../kubeproxy/versions.js';
import { parseEtcdScriptVersion } from '../../tools/go-build.js';

export { parseEtcdScriptVersion };

export const KUBE_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];
export type LocalBinary = KubeBinary | 'etcd';

/** hack/lib/etcd.sh's ETCD_VERSION in the script versions read (anchors-local-up.md §1.2). */
export const DEFAULT_ETCD_MIN_VERSION = '3.6.10';
/**
 * A first `--version` of six ~100 MB Go binaries at once pages each one in: in the emulated lab VM
 * (qemu TCG, binaries on a 9p share) kube-apiserver --version did not finish within 15 s.
 */
const VERSION_TIMEOUT_MS = 120_000;

/** Go's GOOS/GOARCH for this machine: the names of the _output/<...>/<os>/<arch> folders. */
export function goPlatform(platform: string, arch: string): { os: string; arch: string } {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', ia32: '386' };
  return { os: platform, arch: goArch[arch] ?? arch };
}

export interface SearchInput {
  readonly kubeBinDir: string;
  readonly kubeRoot: string;
  /** The PATH variable. */
  readonly path: string;
  /** TOOLS_DIR/kubernetes-<KUBE_VERSION>/bin when `tools install kubernetes` completed it (else null). */
  readonly installedKubeBinDir?: string | null;
  /** TOOLS_DIR/etcd-<version>/bin folders of complete etcd installs, preferred first. */
  readonly installedEtcdBinDirs?: readonly string[];
  readonly platform: { readonly os: string; readonly arch: string };
}

export interface SearchPlace {
  readonly dir: string;
  /** Why this folder is searched, for messages: "KUBE_BIN_DIR", "KUBE_ROOT", "PATH". */
  readonly via: string;
}

/** The folders KUBE_ROOT's builds land in (kube::util::find-binary's list, bazel left out). */
export function kubeRootOutputDirs(kubeRoot: string, platform: SearchInput['platform']): string[] {
  const p = `${platform.os}/${platform.arch}`;
  return [join(kubeRoot, '_output', 'bin'), join(kubeRoot, '_output', 'dockerized', 'bin', p), join(kubeRoot, '_output', 'local', 'bin', p), join(kubeRoot, 'platforms', p)];
}

/**
 * Where one binary is looked for, in order. kube-* binaries: KUBE_BIN_DIR, then KUBE_ROOT's
 * output folders (the newest build among them wins, as in find-binary), then PATH. etcd is not
 * built by Kubernetes: KUBE_BIN_DIR, PATH, then KUBE_ROOT/third_party/etcd (hack/install-etcd.sh).
 */
export function searchPlaces(name: LocalBinary, input: SearchInput): SearchPlace[] {
  const places: SearchPlace[] = [];
  if (input.kubeBinDir !== '') places.push({ dir: input.kubeBinDir, via: 'KUBE_BIN_DIR' });
  const pathDirs = input.path.split(delimiter).filter((d) => d !== '').map((dir) => ({ dir, via: 'PATH' }));
  // The installed set stands in for KUBE_ROOT and KUBE_BIN_DIR only when neither is set: a user's own build wins.
  const useInstalled = input.kubeBinDir === '' && input.kubeRoot === '';
  if (name === 'etcd') {
    if (useInstalled) places.push(...(input.installedEtcdBinDirs ?? []).map((dir) => ({ dir, via: 'TOOLS_DIR (tools install etcd)' })));
    places.push(...pathDirs);
    if (input.kubeRoot !== '') places.push({ dir: join(input.kubeRoot, 'third_party', 'etcd'), via: 'KUBE_ROOT' });
    return places;
  }
  if (input.kubeRoot !== '') places.push(...kubeRootOutputDirs(input.kubeRoot, input.platform).map((dir) => ({ dir, via: 'KUBE_ROOT' })));
  if (useInstalled && input.installedKubeBinDir !== undefined && input.installedKubeBinDir !== null) places.push({ dir: input.installedKubeBinDir, via: 'TOOLS_DIR (tools install kubernetes)' });
  places.push(...pathDirs);
  return places;
}

export interface FileFact {
  readonly mtimeMs: number;
  readonly executable: boolean;
}

/**
 * Picks the binary from the candidates that exist. Within KUBE_ROOT the newest file wins
 * (a stale _output/bin must not shadow a fresh dockerized build); otherwise the first place wins.
 */
export function pickBinary(name: LocalBinary, places: readonly SearchPlace[], stat: (path: string) => FileFact | null): { path: string; via: string } | null {
  const found = places
    .map((place) => ({ place, path: join(place.dir, name), fact: stat(join(place.dir, name)) }))
    .filter((c): c is { place: SearchPlace; path: string; fact: FileFact } => c.fact !== null && c.fact.executable);
  const first = found[0];
  if (first === undefined) return null;
  if (first.place.via !== 'KUBE_ROOT') return { path: first.path, via: first.place.via };
  const fromRoot = found.filter((c) => c.place.via === 'KUBE_ROOT');
  const newest = fromRoot.reduce((a, b) => (b.fact.mtimeMs > a.fact.mtimeMs ? b : a));
  return { path: newest.path, via: 'KUBE_ROOT' };
}

/**
 * "Kubernetes v1.34.11" (any kube-* --version) → the version; null when the text is not that. A build
 * without release stamping prints "Kubernetes v0.0.0-master+$Format:%H$" (component-base/version's
 * defaults): that says nothing about the release, so it is refused like any other unknown text.
 */
export function parseKubeBinaryVersion(text: string): KubeVersion | null {
  const match = /^Kubernetes (v\d+\.\d+\.\d+)\S*/m.exec(text);
  const version = match === null ? null : parseKubeVersion(match[1] as string);
  return version === null || version.major === 0 ? null : version;
}

/** "etcd Version: 3.4.23" → [3, 4, 23]. */
export function parseEtcdVersion(text: string): [number, number, number] | null {
  const match = /^etcd Version:\s*v?(\d+)\.(\d+)\.(\d+)/m.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compareTriple(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface FoundBinary {
  readonly name: LocalBinary;
  readonly path: string;
  readonly via: string;
  /** The first line of --version. */
  readonly versionText: string;
}

export interface VersionCheckInput {
  readonly binaries: readonly FoundBinary[];
  /** KUBE_VERSION and whether the user chose it (not the default). */
  readonly kubeVersion: KubeVersion;
  readonly kubeVersionChosen: boolean;
  readonly etcdMinVersion: string;
  /** Where the etcd minimum came from, for messages. */
  readonly etcdMinSource: string;
}

export interface VersionVerdict {
  /** The version every generated config is written for: the binaries' own. */
  readonly version: KubeVersion | null;
  readonly errors: string[];
  readonly warnings: string[];
  readonly notes: string[];
}

/**
 * The version rules. All kube-* binaries must share major.minor (a patch difference only
 * warns). KUBE_VERSION: when the user set it, a different minor is an error (configuration
 * would be written for a release that is not running); when left at its default, the
 * binaries decide and a note says so. etcd must be at least the minimum.
 */
export function checkBinaryVersions(input: VersionCheckInput): VersionVerdict {
  const errors: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const kube = input.binaries.filter((b) => b.name !== 'etcd').map((b) => ({ b, v: parseKubeBinaryVersion(b.versionText) }));
  for (const { b, v } of kube) {
    if (v === null) {
      errors.push(/^Kubernetes v0\.0\.0/.test(b.versionText)
        ? `${b.path} --version printed "${b.versionText}": a build without version stamping, so its release is unknown; build it with make (hack/lib/version.sh stamps it) or use local-up tools install kubernetes`
        : `${b.path} --version printed "${b.versionText}", not "Kubernetes vX.Y.Z"; is it a ${b.name} binary?`);
    }
  }
  const versions = kube.filter((k): k is { b: FoundBinary; v: KubeVersion } => k.v !== null);
  const first = versions[0];
  let version: KubeVersion | null = null;
  if (first !== undefined) {
    const minors = new Set(versions.map(({ v }) => `${v.major}.${v.minor}`));
    const list = versions.map(({ b, v }) => `${b.name} ${formatKubeVersion(v)} (${b.path})`).join(', ');
    if (minors.size > 1) {
      errors.push(`the kube-* binaries are from different releases: ${list}; build them from one checkout (make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy")`);
    } else {
      version = first.v;
      if (new Set(versions.map(({ v }) => v.patch)).size > 1) warnings.push(`the kube-* binaries differ in patch release: ${list}`);
      const v = formatKubeVersion(first.v);
      if (!reached(first.v, 'localProviderOldest')) {
        errors.push(`the binaries are Kubernetes ${v}; the local provider needs ${since('localProviderOldest')} or later (the kubelet reads containerRuntimeEndpoint from its config file since then)`);
      }
      const wanted = input.kubeVersion;
      if (wanted.major !== first.v.major || wanted.minor !== first.v.minor) {
        if (input.kubeVersionChosen) {
          errors.push(`KUBE_VERSION=${formatKubeVersion(wanted)} but the binaries are Kubernetes ${v}; set KUBE_VERSION=${v} (or leave it unset: the local provider then follows the binaries)`);
        } else {
          notes.push(`the binaries are Kubernetes ${v}; configuration is written for ${v} (KUBE_VERSION is not set, its default ${formatKubeVersion(wanted)} applies to kind only)`);
        }
      } else if (input.kubeVersionChosen && wanted.patch !== null && first.v.patch !== null && wanted.patch !== first.v.patch) {
        warnings.push(`KUBE_VERSION=${formatKubeVersion(wanted)} but the binaries are Kubernetes ${v} (same minor: configuration is the same)`);
      }
    }
  }
  const etcd = input.binaries.find((b) => b.name === 'etcd');
  if (etcd !== undefined) {
    const have = parseEtcdVersion(etcd.versionText);
    const min = input.etcdMinVersion.split('.').map(Number);
    if (have === null) {
      errors.push(`${etcd.path} --version printed "${etcd.versionText}", not "etcd Version: X.Y.Z"`);
    } else if (compareTriple(have, min) < 0) {
      errors.push(`etcd ${have.join('.')} (${etcd.path}) is older than ${input.etcdMinVersion} (${input.etcdMinSource}); install a newer etcd (hack/install-etcd.sh in a Kubernetes checkout), or set ETCD_VERSION to accept this one`);
    }
  }
  return { version, errors, warnings, notes };
}

export interface LocateInput extends SearchInput {
  readonly runner: Runner;
  readonly signal?: AbortSignal;
  /** Defaults to a real stat. */
  readonly stat?: (path: string) => FileFact | null;
}

export function statExecutable(path: string): FileFact | null {
  try {
    const stats = statSync(path);
    // Any execute bit: the component is run as root or as this user, both fine for a dev tool.
    return stats.isFile() ? { mtimeMs: stats.mtimeMs, executable: (stats.mode & 0o111) !== 0 } : null;
  } catch {
    return null;
  }
}

/** Finds every binary and reads its version. A missing one is an error naming every folder searched. */
export async function locateBinaries(names: readonly LocalBinary[], input: LocateInput): Promise<FoundBinary[]> {
  const stat = input.stat ?? statExecutable;
  const missing: string[] = [];
  const located: { name: LocalBinary; path: string; via: string }[] = [];
  for (const name of names) {
    const places = searchPlaces(name, input);
    const picked = pickBinary(name, places, stat);
    if (picked === null) missing.push(`${name}: not in ${places.length === 0 ? '(no folder to search)' : places.map((p) => `${p.dir} (${p.via})`).join(', ')}`);
    else located.push({ name, ...picked });
  }
  if (missing.length > 0) {
    throw unavailableError(`the local provider cannot find ${missing.length === 1 ? 'a binary' : `${missing.length} binaries`}`, {
      details: missing.join('\n'),
      hint: 'get real binaries with `local-up tools install kubernetes` (add --from-source to build them with Go) and `local-up tools install etcd`; or set KUBE_ROOT to a Kubernetes checkout you built (make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy"), or KUBE_BIN_DIR to a folder of binaries',
    });
  }
  return Promise.all(
    located.map(async ({ name, path, via }) => {
      const result = await input.runner.run(path, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS, ...(input.signal === undefined ? {} : { signal: input.signal }) });
      if (result.exitCode !== 0) {
        throw new LocalUpError(ExitCode.unavailable, `${name} does not run: ${describeFailure(result, VERSION_TIMEOUT_MS)}`, { details: result.stderr || result.stdout, hint: `check that ${path} is a ${name} binary for this machine` });
      }
      const versionText = (result.stdout.trim() === '' ? result.stderr : result.stdout).trim().split('\n')[0] ?? '';
      return { name, path, via, versionText };
    }),
  );
}
