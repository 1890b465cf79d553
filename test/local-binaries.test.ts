import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { isLocalUpError } from '../src/errors.js';
import type { FoundBinary } from '../src/providers/local/binaries.js';
import {
  checkBinaryVersions,
  goPlatform,
  locateBinaries,
  parseEtcdScriptVersion,
  parseEtcdVersion,
  parseKubeBinaryVersion,
  pickBinary,
  searchPlaces,
} from '../src/providers/local/binaries.js';
import { etcdMinimum } from '../src/providers/local/session.js';
import { tempDir } from './helpers/cli.js';
import { FakeRunner } from './helpers/fake-runner.js';

const v = (text: string): KubeVersion => parseKubeVersion(text) as KubeVersion;
const platform = { os: 'linux', arch: 'amd64' };

describe('where binaries are looked for (local-up-cluster.sh order)', () => {
  it('kube-* binaries: KUBE_BIN_DIR, then KUBE_ROOT output folders, then PATH', () => {
    const places = searchPlaces('kube-proxy', { kubeBinDir: '/bin-dir', kubeRoot: '/k', path: '/usr/local/bin:/usr/bin', platform });
    assert.deepEqual(places, [
      { dir: '/bin-dir', via: 'KUBE_BIN_DIR' },
      { dir: '/k/_output/bin', via: 'KUBE_ROOT' },
      { dir: '/k/_output/dockerized/bin/linux/amd64', via: 'KUBE_ROOT' },
      { dir: '/k/_output/local/bin/linux/amd64', via: 'KUBE_ROOT' },
      { dir: '/k/platforms/linux/amd64', via: 'KUBE_ROOT' },
      { dir: '/usr/local/bin', via: 'PATH' },
      { dir: '/usr/bin', via: 'PATH' },
    ]);
  });
  it('etcd: PATH before the checkout\'s third_party/etcd (hack/install-etcd.sh puts it there)', () => {
    const places = searchPlaces('etcd', { kubeBinDir: '', kubeRoot: '/k', path: '/usr/bin', platform });
    assert.deepEqual(places, [
      { dir: '/usr/bin', via: 'PATH' },
      { dir: '/k/third_party/etcd', via: 'KUBE_ROOT' },
    ]);
  });
  it('maps Node platforms to Go ones (the _output folder names)', () => {
    assert.deepEqual(goPlatform('linux', 'x64'), { os: 'linux', arch: 'amd64' });
    assert.deepEqual(goPlatform('linux', 'arm64'), { os: 'linux', arch: 'arm64' });
    assert.deepEqual(goPlatform('linux', 'ppc64'), { os: 'linux', arch: 'ppc64le' });
  });
  it('within KUBE_ROOT the newest build wins; otherwise the first place wins', () => {
    const places = searchPlaces('kubelet', { kubeBinDir: '', kubeRoot: '/k', path: '/usr/bin', platform });
    const files: Record<string, number> = { '/k/_output/bin/kubelet': 100, '/k/_output/local/bin/linux/amd64/kubelet': 200, '/usr/bin/kubelet': 300 };
    const stat = (p: string) => (files[p] === undefined ? null : { mtimeMs: files[p] as number, executable: true });
    assert.deepEqual(pickBinary('kubelet', places, stat), { path: '/k/_output/local/bin/linux/amd64/kubelet', via: 'KUBE_ROOT' });
    const withBinDir = searchPlaces('kubelet', { kubeBinDir: '/b', kubeRoot: '/k', path: '/usr/bin', platform });
    assert.deepEqual(pickBinary('kubelet', withBinDir, (p) => (p === '/b/kubelet' ? { mtimeMs: 1, executable: true } : stat(p))), { path: '/b/kubelet', via: 'KUBE_BIN_DIR' });
    assert.equal(pickBinary('kubelet', places, (p) => (p === '/k/_output/bin/kubelet' ? { mtimeMs: 1, executable: false } : null)), null);
  });
});

describe('version outputs', () => {
  it('reads "Kubernetes v1.34.11" (every kube-* --version) and etcd\'s "etcd Version:"', () => {
    assert.deepEqual(parseKubeBinaryVersion('Kubernetes v1.34.11\n'), { major: 1, minor: 34, patch: 11 });
    assert.deepEqual(parseKubeBinaryVersion('Kubernetes v1.35.0-alpha.2.123+abcdef'), { major: 1, minor: 35, patch: 0 });
    assert.equal(parseKubeBinaryVersion('kind v0.30.0 go1.24 linux/amd64'), null);
    // Debian 12's etcd-server, as installed on the development machine.
    assert.deepEqual(parseEtcdVersion('etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.19.8\n'), [3, 4, 23]);
    assert.equal(parseEtcdVersion('etcdctl version: 3.4.23'), null);
  });
  it("reads the checkout's minimum etcd from hack/lib/etcd.sh", () => {
    assert.equal(parseEtcdScriptVersion('# comment\nETCD_VERSION=${ETCD_VERSION:-3.6.10}\nETCD_HOST=${ETCD_HOST:-127.0.0.1}\n'), '3.6.10');
    assert.equal(parseEtcdScriptVersion('ETCD_HOST=${ETCD_HOST:-127.0.0.1}\n'), null);
  });
});

const found = (name: FoundBinary['name'], versionText: string): FoundBinary => ({ name, path: `/bin/${name}`, via: 'PATH', versionText });
const allKube = (version: string) => ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'].map((n) => found(n as FoundBinary['name'], `Kubernetes ${version}`));

describe('version rules', () => {
  const base = { kubeVersion: v('1.34.11'), kubeVersionChosen: false, etcdMinVersion: '3.4', etcdMinSource: 'ETCD_VERSION' };
  it('accepts one release and follows the binaries when KUBE_VERSION was not chosen', () => {
    const verdict = checkBinaryVersions({ ...base, binaries: [...allKube('v1.33.2'), found('etcd', 'etcd Version: 3.5.16')] });
    assert.deepEqual(verdict.errors, []);
    assert.deepEqual(verdict.version, { major: 1, minor: 33, patch: 2 });
    assert.match(verdict.notes.join('\n'), /the binaries are Kubernetes 1\.33\.2; configuration is written for 1\.33\.2/);
  });
  it('an explicit KUBE_VERSION of another minor is an error naming both', () => {
    const verdict = checkBinaryVersions({ ...base, kubeVersion: v('1.30'), kubeVersionChosen: true, binaries: allKube('v1.34.11') });
    assert.match(verdict.errors.join('\n'), /KUBE_VERSION=1\.30 but the binaries are Kubernetes 1\.34\.11; set KUBE_VERSION=1\.34\.11/);
  });
  it('a patch difference from an explicit KUBE_VERSION only warns', () => {
    const verdict = checkBinaryVersions({ ...base, kubeVersion: v('1.34.2'), kubeVersionChosen: true, binaries: allKube('v1.34.11') });
    assert.deepEqual(verdict.errors, []);
    assert.match(verdict.warnings.join('\n'), /KUBE_VERSION=1\.34\.2 but the binaries are Kubernetes 1\.34\.11/);
  });
  it('binaries of different minors are an error listing each with its path', () => {
    const mixed = allKube('v1.34.11').map((b) => (b.name === 'kube-proxy' ? { ...b, versionText: 'Kubernetes v1.33.0' } : b));
    const verdict = checkBinaryVersions({ ...base, binaries: mixed });
    assert.equal(verdict.version, null);
    assert.match(verdict.errors.join('\n'), /different releases: .*kube-proxy 1\.33\.0 \(\/bin\/kube-proxy\)/);
  });
  it('refuses releases before the local provider\'s oldest (kubelet config containerRuntimeEndpoint)', () => {
    const verdict = checkBinaryVersions({ ...base, binaries: allKube('v1.26.15') });
    assert.match(verdict.errors.join('\n'), /the local provider needs 1\.27 or later/);
  });
  it('etcd older than the minimum is an error naming the minimum and where it came from', () => {
    const verdict = checkBinaryVersions({ ...base, etcdMinVersion: '3.6.10', etcdMinSource: "local-up-cluster.sh's default ETCD_VERSION", binaries: [...allKube('v1.34.11'), found('etcd', 'etcd Version: 3.4.23')] });
    assert.match(verdict.errors.join('\n'), /etcd 3\.4\.23 \(\/bin\/etcd\) is older than 3\.6\.10 \(local-up-cluster\.sh's default ETCD_VERSION\).*set ETCD_VERSION/);
  });
  it('a binary that does not print a Kubernetes version is named', () => {
    const verdict = checkBinaryVersions({ ...base, binaries: [found('kubelet', 'hello')] });
    assert.match(verdict.errors.join('\n'), /\/bin\/kubelet --version printed "hello"/);
  });
});

describe('locateBinaries (real files, scripted --version)', () => {
  it('names the missing binary and every folder it was looked for in', async () => {
    const dir = tempDir();
    const binDir = join(dir, 'bin');
    mkdirSync(binDir);
    for (const name of ['kube-apiserver', 'kubelet']) {
      writeFileSync(join(binDir, name), '#!/bin/sh\n');
      chmodSync(join(binDir, name), 0o755);
    }
    await assert.rejects(
      locateBinaries(['kube-apiserver', 'kube-proxy'], { kubeBinDir: binDir, kubeRoot: join(dir, 'k'), path: '/nonexistent', platform, runner: new FakeRunner([]) }),
      (error: unknown) => {
        assert.ok(isLocalUpError(error));
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /cannot find a binary/);
        assert.match(error.details ?? '', new RegExp(`kube-proxy: not in ${binDir} \\(KUBE_BIN_DIR\\), ${dir}/k/_output/bin \\(KUBE_ROOT\\), .*_output/dockerized/bin/linux/amd64 \\(KUBE_ROOT\\), .*, /nonexistent \\(PATH\\)`));
        return true;
      },
    );
  });
  it('reads each found binary\'s --version, newest KUBE_ROOT build first', async () => {
    const root = tempDir();
    const older = join(root, '_output', 'bin');
    const newer = join(root, '_output', 'dockerized', 'bin', 'linux', 'amd64');
    for (const dir of [older, newer]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'kube-proxy'), '#!/bin/sh\n');
      chmodSync(join(dir, 'kube-proxy'), 0o755);
    }
    utimesSync(join(older, 'kube-proxy'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    const runner = new FakeRunner([{ match: [join(newer, 'kube-proxy'), '--version'], respond: { stdout: 'Kubernetes v1.34.11\n' } }]);
    const result = await locateBinaries(['kube-proxy'], { kubeBinDir: '', kubeRoot: root, path: '', platform, runner });
    assert.deepEqual(result, [{ name: 'kube-proxy', path: join(newer, 'kube-proxy'), via: 'KUBE_ROOT', versionText: 'Kubernetes v1.34.11' }]);
  });
  it('gives --version a deadline a cold start on a slow machine meets (a minute or more)', async () => {
    // Found in the lab VM (qemu TCG, binaries on 9p): kube-apiserver --version took longer than 15 s.
    const dir = tempDir();
    writeFileSync(join(dir, 'kube-apiserver'), '#!/bin/sh\n');
    chmodSync(join(dir, 'kube-apiserver'), 0o755);
    const runner = new FakeRunner([{ match: [join(dir, 'kube-apiserver'), '--version'], respond: { stdout: 'Kubernetes v1.34.11\n' } }]);
    await locateBinaries(['kube-apiserver'], { kubeBinDir: dir, kubeRoot: '', path: '', platform, runner });
    assert.ok((runner.calls[0]?.options.timeoutMs ?? 0) >= 60_000, `--version deadline ${runner.calls[0]?.options.timeoutMs} ms`);
  });
  it('a binary that fails --version is an error with its output', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kubelet'), '#!/bin/sh\n');
    chmodSync(join(dir, 'kubelet'), 0o755);
    const runner = new FakeRunner([{ match: [join(dir, 'kubelet'), '--version'], respond: { exitCode: 126, stderr: 'cannot execute binary file: Exec format error' } }]);
    await assert.rejects(locateBinaries(['kubelet'], { kubeBinDir: dir, kubeRoot: '', path: '', platform, runner }), (error: unknown) => {
      assert.ok(isLocalUpError(error));
      assert.match(error.message, /kubelet does not run: .* exited with code 126/);
      assert.match(error.details ?? '', /Exec format error/);
      return true;
    });
  });
});

describe('etcdMinimum (which etcd the binaries found ask for)', () => {
  // An installed set records the etcd version its source's hack/lib/etcd.sh names: 3.6.5 for
  // k8s.io/kubernetes@v1.34.11 (hack/lib/etcd.sh at v1.34.11: ETCD_VERSION=${ETCD_VERSION:-3.6.5}).
  const installed = {
    kubernetes: { tool: 'kubernetes', version: '1.34.11', source: 'source', origin: 'k8s.io/kubernetes@v1.34.11', binaries: [], installedAt: '', etcdVersion: '3.6.5' },
    kubeBinDir: '/tools/bin/kubernetes-1.34.11/bin',
  } as unknown as Parameters<typeof etcdMinimum>[1];
  const none = { etcdMinVersion: '', kubeRoot: '', kubeBinDir: '' };

  it("no KUBE_BIN_DIR: the installed set's record", () => {
    assert.deepEqual(etcdMinimum(none, installed), { version: '3.6.5', source: 'hack/lib/etcd.sh of k8s.io/kubernetes@v1.34.11' });
  });
  it("KUBE_BIN_DIR naming the installed set's own folder (spelled differently) is that set: its record still applies", () => {
    assert.equal(etcdMinimum({ ...none, kubeBinDir: '/tools/bin/kubernetes-1.34.11/bin/' }, installed).version, '3.6.5');
    assert.equal(etcdMinimum({ ...none, kubeBinDir: '/tools/bin/../bin/kubernetes-1.34.11/bin' }, installed).version, '3.6.5');
  });
  it("another KUBE_BIN_DIR: nothing is known about its etcd, the script's default", () => {
    assert.deepEqual(etcdMinimum({ ...none, kubeBinDir: '/home/me/k8s/_output/bin' }, installed), { version: '3.6.10', source: "local-up-cluster.sh's default ETCD_VERSION" });
  });
  it('ETCD_VERSION wins over everything', () => {
    assert.deepEqual(etcdMinimum({ ...none, etcdMinVersion: '3.4' }, installed), { version: '3.4', source: 'ETCD_VERSION' });
  });
});
