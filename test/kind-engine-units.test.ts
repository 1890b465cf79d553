// Pure parts of issue 16's kind work: reading `<engine> info`, placing the nodes' kernel, kind's
// version against the pinned release, and where kube-proxy's /proxyMode listens on a kind node.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseEngineInfo, placeEngineKernel, probeRunArgs, remoteEngineHost } from '../src/providers/kind/engine-kernel.js';
import { metricsLoopbackOf } from '../src/providers/kind/kind-provider.js';
import { judgeKindVersion, parseKindVersion } from '../src/providers/kind/release.js';
import { exportKubeconfigArgs, deleteClusterArgs } from '../src/providers/kind/kind-cli.js';

// Shapes of real output: docker 27 `info --format '{{json .}}'` (fields trimmed) and podman 5 `info --format json`.
const DOCKER_DESKTOP = JSON.stringify({ KernelVersion: '6.10.14-linuxkit', OperatingSystem: 'Docker Desktop', OSType: 'linux', SecurityOptions: ['name=seccomp,profile=unconfined', 'name=cgroupns'] });
const ROOTLESS_DOCKER = JSON.stringify({ KernelVersion: '6.8.0-49-generic', OperatingSystem: 'Ubuntu 24.04.1 LTS', OSType: 'linux', SecurityOptions: ['name=seccomp,profile=builtin', 'name=rootless', 'name=cgroupns'] });
const PODMAN_MACHINE = JSON.stringify({ host: { kernel: '6.11.3-200.fc40.aarch64', os: 'linux', distribution: { distribution: 'fedora', version: '40' }, security: { rootless: false } }, version: { Version: '5.2.5' } });
const ROOTLESS_PODMAN = JSON.stringify({ host: { kernel: '6.1.0-56-amd64', os: 'linux', distribution: { distribution: 'debian', version: '12' }, security: { rootless: true } } });

describe('parseEngineInfo', () => {
  test('docker: kernel, OS, OSType and the rootless security option', () => {
    assert.deepEqual(parseEngineInfo('docker', DOCKER_DESKTOP), { kernelVersion: '6.10.14-linuxkit', operatingSystem: 'Docker Desktop', osType: 'linux', rootless: false });
    assert.equal(parseEngineInfo('docker', ROOTLESS_DOCKER)?.rootless, true);
  });
  test('podman: host.kernel, host.distribution and host.security.rootless', () => {
    assert.deepEqual(parseEngineInfo('podman', PODMAN_MACHINE), { kernelVersion: '6.11.3-200.fc40.aarch64', operatingSystem: 'fedora 40', osType: 'linux', rootless: false });
    assert.equal(parseEngineInfo('podman', ROOTLESS_PODMAN)?.rootless, true);
  });
  test('not JSON (an old engine, the plain `info` text): null', () => {
    assert.equal(parseEngineInfo('docker', 'Client: Docker Engine\n Kernel Version: 6.1.0\n'), null);
    assert.equal(parseEngineInfo('podman', '{}'), null);
  });
});

describe('placeEngineKernel', () => {
  const info = (kernelVersion: string, operatingSystem = 'Debian GNU/Linux 12 (bookworm)') => ({ kernelVersion, operatingSystem, osType: 'linux', rootless: false });
  test('Docker Engine on this Linux machine: shared', () => {
    assert.equal(placeEngineKernel('docker', info('6.1.0-56-amd64'), { os: 'linux', release: '6.1.0-56-amd64' }, null).shared, true);
  });
  test('macOS and Windows: never shared, whatever the engine says', () => {
    for (const os of ['darwin', 'win32']) {
      const p = placeEngineKernel('docker', info('6.10.14-linuxkit', 'Docker Desktop'), { os, release: '24.6.0' }, null);
      assert.equal(p.shared, false);
      assert.match(p.why, new RegExp(`this machine runs ${os} 24\\.6\\.0`));
    }
  });
  test('Docker Desktop on Linux: a VM even if the releases happened to match', () => {
    assert.equal(placeEngineKernel('docker', info('6.1.0-56-amd64', 'Docker Desktop'), { os: 'linux', release: '6.1.0-56-amd64' }, null).shared, false);
  });
  test('podman machine, colima, Lima: another kernel release than this machine\'s', () => {
    const p = placeEngineKernel('podman', info('6.11.3-200.fc40.aarch64', 'fedora 40'), { os: 'linux', release: '6.1.0-56-amd64' }, null);
    assert.equal(p.shared, false);
    assert.match(p.why, /but this machine runs Linux 6\.1\.0-56-amd64/);
  });
  test('a remote DOCKER_HOST or CONTAINER_HOST: not shared', () => {
    assert.equal(remoteEngineHost('docker', { DOCKER_HOST: 'ssh://me@box' }), 'DOCKER_HOST=ssh://me@box');
    assert.equal(remoteEngineHost('docker', { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), null);
    assert.equal(remoteEngineHost('podman', { CONTAINER_HOST: 'ssh://core@127.0.0.1:50000/run/podman/podman.sock' }), 'CONTAINER_HOST=ssh://core@127.0.0.1:50000/run/podman/podman.sock');
    assert.equal(placeEngineKernel('docker', info('6.1.0-56-amd64'), { os: 'linux', release: '6.1.0-56-amd64' }, 'DOCKER_HOST=tcp://10.0.0.5:2376').shared, false);
  });
  test('the probe container is an argument array: root on the engine kernel, its module tree, the command as entrypoint', () => {
    assert.deepEqual(probeRunArgs('kindest/node:v1.34.11@sha256:x', 'modprobe', ['-a', '--', 'ip_vs']), ['run', '--rm', '--privileged', '--net=host', '-v', '/lib/modules:/lib/modules:ro', '--entrypoint', 'modprobe', 'kindest/node:v1.34.11@sha256:x', '-a', '--', 'ip_vs']);
  });
});

describe('kind version against the pinned release', () => {
  test('reads release and development builds', () => {
    assert.deepEqual(parseKindVersion('kind v0.33.0 go1.26.8 linux/amd64\n'), { version: 'v0.33.0', major: 0, minor: 33, patch: 0 });
    assert.deepEqual(parseKindVersion('kind v0.34.0-alpha+0123abcd go1.26.8 darwin/arm64'), { version: 'v0.34.0-alpha+0123abcd', major: 0, minor: 34, patch: 0 });
    assert.equal(parseKindVersion('v0.33.0'), null);
  });
  test('same minor passes; another fails with both fixes; KIND_NODE_IMAGE makes it a warning', () => {
    assert.equal(judgeKindVersion('kind v0.33.1 go1.26.8 linux/amd64', '', '/t/kind-v0.33.0').status, 'pass');
    const old = judgeKindVersion('kind v0.31.0 go1.24.6 linux/amd64', '', '/t/kind-v0.33.0');
    assert.equal(old.status, 'fail');
    const fix = 'fix' in old ? old.fix : '';
    assert.match(fix, /local-up tools install kind/);
    assert.match(fix, /KIND_NODE_IMAGE/);
    assert.match(fix, /KIND=\/t\/kind-v0\.33\.0/);
    assert.equal(judgeKindVersion('kind v0.31.0 go1.24.6 linux/amd64', 'kindest/node:v1.33.4', '/t/k').status, 'warn');
    assert.equal(judgeKindVersion('something else', '', '/t/k').status, 'warn');
  });
});

describe('kind command lines for clusters kube-local-up did not create', () => {
  test('export kubeconfig into KUBECONFIG_OUT; delete without --kubeconfig cleans where kind wrote it', () => {
    assert.deepEqual(exportKubeconfigArgs('dev', '/s/kubeconfig'), ['export', 'kubeconfig', '--name', 'dev', '--kubeconfig', '/s/kubeconfig']);
    assert.deepEqual(deleteClusterArgs('dev', null), ['delete', 'cluster', '--name', 'dev']);
    assert.deepEqual(deleteClusterArgs('dev', '/s/k'), ['delete', 'cluster', '--name', 'dev', '--kubeconfig', '/s/k']);
  });
});

describe('where /proxyMode listens on a kind node', () => {
  test('the first InternalIP\'s family decides: IPv6-only [::1], IPv4 and dual-stack (IPv4 first) 127.0.0.1', () => {
    assert.equal(metricsLoopbackOf(['fc00:f853:ccd:e793::2']), '[::1]');
    assert.equal(metricsLoopbackOf(['172.18.0.2', 'fc00:f853:ccd:e793::2']), '127.0.0.1');
    assert.equal(metricsLoopbackOf([]), '127.0.0.1');
  });
});
