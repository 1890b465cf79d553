// The pure parts of `tools install`: the throwaway build module, release-build
// flags, Go versions, checksum files, install manifests, and where the local
// provider looks for an installed set. Expected values come from upstream facts
// (named in each test), not from the code under test.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { parseKubeBinaryVersion, searchPlaces } from '../src/providers/local/binaries.js';
import { goAtLeast, kubernetesBuildArgs, kubernetesBuildGoMod, kubernetesLdflags, parseEtcdScriptVersion, parseGoVersion, readGoMod, stagingVersion } from '../src/tools/go-build.js';
import { parseManifest, parseSetFolderName, toolSetBinDir } from '../src/tools/layout.js';
import { digestFromChecksumFile, etcdArchive, kubernetesServerArchive } from '../src/tools/sources.js';

const V = parseKubeVersion('1.34.11') as KubeVersion;

// Shaped like k8s.io/kubernetes's go.mod (v1.34): a go directive, a godebug line, and a replace
// block that points each staging module at ./staging/src/k8s.io/<name>.
const GO_MOD = `// This is a generated file. Do not edit directly.
module k8s.io/kubernetes

go 1.25.0

godebug default=go1.24

require (
	github.com/spf13/cobra v1.9.1
	k8s.io/api v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	example.com/pinned => example.com/pinned v1.2.3
)
`;

describe('the build module for k8s.io/kubernetes', () => {
  it('reads the go directive, godebug and the local (staging) replaces only', () => {
    assert.deepEqual(readGoMod(GO_MOD), { go: '1.25.0', godebug: ['default=go1.24'], localReplaces: ['k8s.io/api', 'k8s.io/client-go'] });
  });

  it('requires the release and points each staging module at its published v0.<minor>.<patch>', () => {
    assert.equal(stagingVersion(V), 'v0.34.11');
    const text = kubernetesBuildGoMod(V, readGoMod(GO_MOD));
    assert.match(text, /^go 1\.25\.0$/m);
    assert.match(text, /^godebug default=go1\.24$/m);
    assert.match(text, /^require k8s\.io\/kubernetes v1\.34\.11$/m);
    assert.match(text, /^\tk8s\.io\/api => k8s\.io\/api v0\.34\.11$/m);
    assert.match(text, /^\tk8s\.io\/client-go => k8s\.io\/client-go v0\.34\.11$/m);
    assert.doesNotMatch(text, /example\.com\/pinned/);
  });

  it('stamps the version as hack/lib/version.sh does, in both version packages, and strips as a release build', () => {
    const flags = kubernetesLdflags(V, '2026-08-20T15:15:36Z');
    for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
      assert.ok(flags.includes(`-X '${pkg}.gitVersion=v1.34.11'`), pkg);
      assert.ok(flags.includes(`-X '${pkg}.gitMajor=1'`), pkg);
      assert.ok(flags.includes(`-X '${pkg}.gitMinor=34'`), pkg);
      assert.ok(flags.includes(`-X '${pkg}.buildDate=2026-08-20T15:15:36Z'`), pkg);
    }
    assert.ok(flags.startsWith('all='));
    assert.ok(flags.endsWith(' -s -w'));
    const args = kubernetesBuildArgs(V, 'x', ['kube-proxy', 'kubelet'], '/out');
    assert.deepEqual(args.slice(0, 4), ['build', '-trimpath', '-tags', 'selinux,notest,grpcnotrace']);
    assert.deepEqual(args.slice(-3), ['/out/', 'k8s.io/kubernetes/cmd/kube-proxy', 'k8s.io/kubernetes/cmd/kubelet']);
  });

  it('reads the real go.mod of the module cache when it is there', { skip: realGoMod() === null ? 'k8s.io/kubernetes@v1.34.11 is not in GO_CACHE_DIR' : false }, () => {
    const facts = readGoMod(realGoMod() as string);
    assert.ok(facts.localReplaces.includes('k8s.io/kube-proxy'));
    assert.ok(facts.localReplaces.length >= 25, `${facts.localReplaces.length} staging modules`);
    assert.match(facts.go ?? '', /^1\.\d+/);
  });
});

function realGoMod(): string | null {
  const file = `${process.env.HOME ?? ''}/.cache/kube-local-up/go/mod/cache/download/k8s.io/kubernetes/@v/v1.34.11.mod`;
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

describe('Go versions', () => {
  it('parses `go version` and `go env GOVERSION` output', () => {
    assert.deepEqual(parseGoVersion('go version go1.26.8 linux/amd64'), [1, 26, 8]);
    assert.deepEqual(parseGoVersion('go1.25'), [1, 25, 0]);
    assert.equal(parseGoVersion('bash: go: command not found'), null);
  });
  it('compares them component by component', () => {
    assert.equal(goAtLeast([1, 26, 8], [1, 25, 0]), true);
    assert.equal(goAtLeast([1, 25, 0], [1, 25, 0]), true);
    assert.equal(goAtLeast([1, 24, 9], [1, 25, 0]), false);
    assert.equal(goAtLeast([1, 9, 0], [1, 25, 0]), false);
  });
  it("reads hack/lib/etcd.sh's ETCD_VERSION", () => {
    assert.equal(parseEtcdScriptVersion('set -o errexit\nETCD_VERSION=${ETCD_VERSION:-3.6.5}\n'), '3.6.5');
    assert.equal(parseEtcdScriptVersion('ETCD_VERSION=3.6.5\n'), null);
  });
});

describe('release archives and their published checksums', () => {
  it('follows cluster/get-kube-binaries.sh: <base>/v<version>/kubernetes-server-linux-<arch>.tar.gz and .sha512 beside it', () => {
    const a = kubernetesServerArchive('https://dl.k8s.io/', V, 'amd64');
    assert.equal(a.url, 'https://dl.k8s.io/v1.34.11/kubernetes-server-linux-amd64.tar.gz');
    assert.equal(a.checksumUrl, 'https://dl.k8s.io/v1.34.11/kubernetes-server-linux-amd64.tar.gz.sha512');
    const e = etcdArchive('https://mirror.example/etcd', '3.6.5', 'arm64');
    assert.equal(e.url, 'https://mirror.example/etcd/v3.6.5/etcd-v3.6.5-linux-arm64.tar.gz');
    assert.deepEqual(e.members, ['etcd-v3.6.5-linux-arm64/etcd', 'etcd-v3.6.5-linux-arm64/etcdctl']);
  });
  it('reads a bare digest and sha256sum-style lines; refuses a wrong length or a missing entry', () => {
    const sha512 = 'a'.repeat(128);
    assert.equal(digestFromChecksumFile(`${sha512}\n`, 'x.tar.gz', 'sha512'), sha512);
    assert.equal(digestFromChecksumFile('b'.repeat(64), 'x.tar.gz', 'sha512'), null);
    const sums = `${'1'.repeat(64)}  etcd-v3.6.5-linux-amd64.tar.gz\n${'2'.repeat(64)}  etcd-v3.6.5-linux-arm64.tar.gz\n`;
    assert.equal(digestFromChecksumFile(sums, 'etcd-v3.6.5-linux-arm64.tar.gz', 'sha256'), '2'.repeat(64));
    assert.equal(digestFromChecksumFile(sums, 'etcd-v3.6.5-linux-s390x.tar.gz', 'sha256'), null);
    assert.equal(digestFromChecksumFile('<html>not found</html>', 'x', 'sha256'), null);
  });
});

describe('install manifests and set folders', () => {
  const good = { tool: 'kubernetes', version: '1.34.11', source: 'source', origin: 'k8s.io/kubernetes@v1.34.11', installedAt: '2026-12-02T00:00:00Z', binaries: [{ name: 'kube-proxy', sha256: 'c'.repeat(64), bytes: 10 }] };
  it('reads back what an install wrote', () => {
    assert.equal(parseManifest(JSON.stringify(good))?.version, '1.34.11');
  });
  it('never trusts a half-written or foreign file', () => {
    assert.equal(parseManifest(JSON.stringify(good).slice(0, 40)), null);
    assert.equal(parseManifest(JSON.stringify({ ...good, binaries: [] })), null);
    assert.equal(parseManifest(JSON.stringify({ ...good, tool: 'docker' })), null);
    assert.equal(parseManifest(JSON.stringify({ ...good, binaries: [{ name: 'x', sha256: 'nope', bytes: 1 }] })), null);
  });
  it('names folders kubernetes-<v>, etcd-<v>, kind-source-<v>', () => {
    assert.deepEqual(parseSetFolderName('kubernetes-1.34.11'), { tool: 'kubernetes', version: '1.34.11' });
    assert.deepEqual(parseSetFolderName('kind-source-v0.33.0'), { tool: 'kind', version: 'v0.33.0' });
    assert.equal(parseSetFolderName('kind-v0.33.0'), null);
    assert.equal(parseSetFolderName('.kubernetes-1.34.11.partial-123'), null);
    assert.equal(toolSetBinDir('/t', 'etcd', '3.6.5'), '/t/etcd-3.6.5/bin');
  });
});

describe('version detection and the local provider search', () => {
  it('refuses an unstamped build (component-base/version defaults to v0.0.0-master)', () => {
    assert.equal(parseKubeBinaryVersion('Kubernetes v0.0.0-master+$Format:%H$'), null);
    assert.deepEqual(parseKubeBinaryVersion('Kubernetes v1.34.11'), V);
  });
  const base = { path: '/usr/bin', platform: { os: 'linux', arch: 'amd64' }, installedKubeBinDir: '/tools/kubernetes-1.34.11/bin', installedEtcdBinDirs: ['/tools/etcd-3.6.5/bin'] };
  it('uses the installed set before PATH when KUBE_ROOT and KUBE_BIN_DIR are unset', () => {
    assert.deepEqual(searchPlaces('kube-proxy', { ...base, kubeBinDir: '', kubeRoot: '' }).map((p) => p.via), ['TOOLS_DIR (tools install kubernetes)', 'PATH']);
    assert.deepEqual(searchPlaces('etcd', { ...base, kubeBinDir: '', kubeRoot: '' }).map((p) => p.dir), ['/tools/etcd-3.6.5/bin', '/usr/bin']);
  });
  it("never lets the installed set shadow the user's own KUBE_ROOT or KUBE_BIN_DIR", () => {
    assert.ok(!searchPlaces('kube-proxy', { ...base, kubeBinDir: '/mine', kubeRoot: '' }).some((p) => p.via.startsWith('TOOLS_DIR')));
    assert.ok(!searchPlaces('kube-proxy', { ...base, kubeBinDir: '', kubeRoot: '/k' }).some((p) => p.via.startsWith('TOOLS_DIR')));
    assert.ok(!searchPlaces('etcd', { ...base, kubeBinDir: '', kubeRoot: '/k' }).some((p) => p.via.startsWith('TOOLS_DIR')));
  });
});
