// `local-up tools images` through the CLI with a scripted runner: a bad --only is a
// usage error that runs nothing; archives already in IMAGES_DIR (a user's own, or an
// air-gapped machine's) are imported as they are, with no compiler and no Go, into
// containerd's k8s.io namespace at CONTAINER_RUNTIME_ENDPOINT.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runInProcess, tempDir } from './helpers/cli.js';
import { FakeRunner } from './helpers/fake-runner.js';

/** A Go module cache holding just what tools images reads of k8s.io/kubernetes v1.34.11 (kubeadm's pins, as in its constants.go). */
function fakeModuleCache(): string {
  const goCache = tempDir('local-up-images-go-');
  const module = join(goCache, 'mod', 'k8s.io', 'kubernetes@v1.34.11');
  mkdirSync(join(module, 'cmd', 'kubeadm', 'app', 'constants'), { recursive: true });
  writeFileSync(join(module, 'go.mod'), 'module k8s.io/kubernetes\n\ngo 1.24.0\n');
  writeFileSync(join(module, 'cmd', 'kubeadm', 'app', 'constants', 'constants.go'), 'package constants\n\nconst (\n\tCoreDNSVersion = "v1.12.1"\n\tPauseVersion = "3.10.1"\n)\n');
  return goCache;
}

describe('local-up tools images', () => {
  it('an unknown --only name is a usage error that runs nothing', async () => {
    const imagesDir = join(tempDir(), 'images');
    const runner = new FakeRunner([]);
    const result = await runInProcess(['tools', 'images', '--only', 'pause,dns'], { runner, env: cleanEnv({ IMAGES_DIR: imagesDir, KUBE_VERSION: '1.34.11' }) });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown image "dns"/);
    assert.equal(runner.calls.length, 0);
  });

  it('imports archives already in IMAGES_DIR as they are: no gcc, no Go, one ctr import each', async () => {
    const imagesDir = tempDir('local-up-images-');
    const names = ['registry.k8s.io_pause_3.10.1.oci.tar', 'registry.k8s.io_coredns_coredns_v1.12.1.oci.tar', 'registry.k8s.io_e2e-test-images_agnhost_2.53.oci.tar'];
    for (const name of names) writeFileSync(join(imagesDir, name), 'user-provided archive');
    const runner = new FakeRunner([{ match: ['ctr', '--address', '/run/k.sock', '--namespace', 'k8s.io', 'images', 'import'], respond: { stdout: 'unpacking ... done\n' } }]);
    const env = cleanEnv({ IMAGES_DIR: imagesDir, GO_CACHE_DIR: fakeModuleCache(), KUBE_VERSION: '1.34.11', CONTAINER_RUNTIME_ENDPOINT: 'unix:///run/k.sock', SMOKE_IMAGE: 'registry.k8s.io/e2e-test-images/agnhost:2.53' });
    const result = await runInProcess(['tools', 'images', '--import'], { runner, env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(runner.calls.map((c) => c.argv.at(-1)), names.map((n) => join(imagesDir, n)));
    const lines = result.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(lines.map((l) => l[0]), ['registry.k8s.io/pause:3.10.1', 'registry.k8s.io/coredns/coredns:v1.12.1', 'registry.k8s.io/e2e-test-images/agnhost:2.53']);
    assert.ok(lines.every((l) => l[2] === 'already there'));
    assert.deepEqual(readdirSync(imagesDir).sort(), [...names].sort());
  });

  it('a failed import names containerd and exits 3', async () => {
    const imagesDir = tempDir('local-up-images-');
    writeFileSync(join(imagesDir, 'registry.k8s.io_pause_3.10.1.oci.tar'), 'x');
    const runner = new FakeRunner([{ match: ['ctr'], respond: { exitCode: 1, stderr: 'ctr: failed to dial "/run/containerd/containerd.sock": connection refused' } }]);
    const env = cleanEnv({ IMAGES_DIR: imagesDir, GO_CACHE_DIR: fakeModuleCache(), KUBE_VERSION: '1.34.11' });
    const result = await runInProcess(['tools', 'images', '--only', 'pause', '--import'], { runner, env });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /import .*registry\.k8s\.io_pause_3\.10\.1\.oci\.tar into containerd at \/run\/containerd\/containerd\.sock/);
    assert.match(result.stderr, /connection refused/);
  });
});
