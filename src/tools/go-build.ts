// Building real binaries with Go from the module proxy, as data: the throwaway
// module that makes k8s.io/kubernetes buildable outside its own repository, the
// flags a release build uses, and the Go version checks. Nothing here runs.
//
// Facts and their sources (k8s.io/kubernetes at the version being built):
// - go.mod replaces every staging module with ./staging/src/k8s.io/<name>, so
//   `go install k8s.io/kubernetes/cmd/...@vX` is refused; the staging modules are
//   published as k8s.io/<name> v0.<minor>.<patch> for v1.<minor>.<patch>.
// - hack/lib/version.sh (kube::version::ldflags): -X for buildDate, gitCommit,
//   gitTreeState, gitVersion, gitMajor, gitMinor in both k8s.io/client-go/pkg/version
//   and k8s.io/component-base/version; commit and tree state only when a commit is known.
// - hack/lib/golang.sh (kube::golang::build_binaries): non-debug builds add
//   `-s -w` to the ldflags, `-trimpath`, and tags selinux,notest,grpcnotrace;
//   KUBE_STATIC_BINARIES (built with CGO_ENABLED=0) lists every component here but
//   the kubelet. We build the kubelet static too (one compilation for all seven).
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubernetesBinary } from './layout.js';

export const KUBERNETES_MODULE = 'k8s.io/kubernetes';
export const BUILD_MODULE_NAME = 'kube-local-up.invalid/build';
export const KUBERNETES_BUILD_TAGS = 'selinux,notest,grpcnotrace';

export interface GoModFacts {
  /** The `go` directive: the oldest Go that may build the module. */
  readonly go: string | null;
  /** `godebug` lines, carried over so the build behaves as the release's main module. */
  readonly godebug: readonly string[];
  /** Module paths replaced by a local folder (the staging modules). */
  readonly localReplaces: readonly string[];
}

/** Reads the directives we need from a go.mod text. */
export function readGoMod(text: string): GoModFacts {
  const lines = text.split('\n').map((l) => l.replace(/\/\/.*$/, '').trim());
  let go: string | null = null;
  const godebug: string[] = [];
  const localReplaces: string[] = [];
  let block: string | null = null;
  for (const line of lines) {
    if (line === '') continue;
    if (block !== null) {
      if (line === ')') {
        block = null;
        continue;
      }
      if (block === 'replace') addReplace(line, localReplaces);
      else if (block === 'godebug') godebug.push(line);
      continue;
    }
    const open = /^(replace|godebug|require|exclude|retract|tool)\s*\($/.exec(line);
    if (open !== null) {
      block = open[1] as string;
      continue;
    }
    const goLine = /^go\s+(\d+\.\d+(?:\.\d+)?)$/.exec(line);
    if (goLine !== null) go = goLine[1] as string;
    else if (line.startsWith('godebug ')) godebug.push(line.slice('godebug '.length).trim());
    else if (line.startsWith('replace ')) addReplace(line.slice('replace '.length), localReplaces);
  }
  return { go, godebug, localReplaces };
}

function addReplace(spec: string, into: string[]): void {
  const match = /^(\S+)(?:\s+\S+)?\s*=>\s*(\S+)(?:\s+\S+)?$/.exec(spec);
  if (match === null) return;
  const target = match[2] as string;
  if (target.startsWith('./') || target.startsWith('../')) into.push(match[1] as string);
}

/** The published version of k8s.io/kubernetes's staging modules for a release: v1.34.11 → v0.34.11. */
export const stagingVersion = (v: KubeVersion): string => `v0.${v.minor}.${v.patch ?? 0}`;

/**
 * The go.mod of the throwaway module that builds k8s.io/kubernetes at exactly v: it requires the
 * release and points every staging module at its published twin.
 */
export function kubernetesBuildGoMod(v: KubeVersion, upstream: GoModFacts): string {
  const lines = [`module ${BUILD_MODULE_NAME}`, '', `go ${upstream.go ?? '1.22'}`, ''];
  for (const d of upstream.godebug) lines.push(`godebug ${d}`);
  if (upstream.godebug.length > 0) lines.push('');
  lines.push(`require ${KUBERNETES_MODULE} v${formatKubeVersion(v)}`, '');
  if (upstream.localReplaces.length > 0) {
    lines.push('replace (');
    for (const m of upstream.localReplaces) lines.push(`\t${m} => ${m} ${stagingVersion(v)}`);
    lines.push(')');
  }
  return `${lines.join('\n')}\n`;
}

/** The -ldflags value a release build passes (see the header for the source). */
export function kubernetesLdflags(v: KubeVersion, buildDate: string): string {
  const version = `v${formatKubeVersion(v)}`;
  const values: [string, string][] = [
    ['buildDate', buildDate],
    ['gitVersion', version],
    ['gitMajor', String(v.major)],
    ['gitMinor', String(v.minor)],
  ];
  const x: string[] = [];
  for (const [key, value] of values) {
    for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) x.push(`-X '${pkg}.${key}=${value}'`);
  }
  return `all=${x.join(' ')} -s -w`;
}

/** `go build` arguments for the seven Kubernetes binaries into outDir (a trailing slash: a folder). */
export function kubernetesBuildArgs(v: KubeVersion, buildDate: string, binaries: readonly KubernetesBinary[], outDir: string): string[] {
  return ['build', '-trimpath', '-tags', KUBERNETES_BUILD_TAGS, '-ldflags', kubernetesLdflags(v, buildDate), '-o', outDir.endsWith('/') ? outDir : `${outDir}/`, ...binaries.map((b) => `${KUBERNETES_MODULE}/cmd/${b}`)];
}

/** The go.mod and main.go of the module that builds etcd's server (etcd's own main.go only calls etcdmain.Main). */
export function etcdBuildModule(version: string, go: string): { goMod: string; mainGo: string } {
  return {
    goMod: `module ${BUILD_MODULE_NAME}/etcd\n\ngo ${go}\n\nrequire go.etcd.io/etcd/server/v3 v${version}\n`,
    mainGo: 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() {\n\tetcdmain.Main(os.Args)\n}\n',
  };
}

export type GoVersion = readonly [number, number, number];

/** "go version go1.26.8 linux/amd64" or "go1.26.8" → [1, 26, 8]. */
export function parseGoVersion(text: string): GoVersion | null {
  const match = /\bgo(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function goAtLeast(have: GoVersion, need: GoVersion): boolean {
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (need[i] ?? 0)) return (have[i] ?? 0) > (need[i] ?? 0);
  }
  return true;
}

export const formatGoVersion = (v: GoVersion): string => `go${v[0]}.${v[1]}.${v[2]}`;

/** `ETCD_VERSION=${ETCD_VERSION:-3.6.5}` in hack/lib/etcd.sh → "3.6.5". */
export function parseEtcdScriptVersion(text: string): string | null {
  return /^ETCD_VERSION=\$\{ETCD_VERSION:-v?(\d+\.\d+\.\d+)\}/m.exec(text)?.[1] ?? null;
}

/** The go.sum-free environment for our builds: our caches, no surprise toolchain switch, static binaries. */
export function goBuildEnv(cacheDir: string, userToolchain: string | undefined): Record<string, string> {
  return {
    GOCACHE: `${cacheDir}/build`,
    GOMODCACHE: `${cacheDir}/mod`,
    GOFLAGS: '-mod=mod',
    CGO_ENABLED: '0',
    GOTOOLCHAIN: userToolchain ?? 'local',
    GOWORK: 'off',
  };
}
