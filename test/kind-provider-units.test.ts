// The pure parts of the kind provider and the live assertions: kubectl readers,
// `ip -o addr` parsing, kube-ipvs0 comparison, kind's output, engine choice.
import { strict as assert } from 'node:assert';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compareKubeIpvs0, parseIpAddrOneline } from '../src/ipvs/live.js';
import { isDaemonSetRolledOut, isDeploymentAvailable, proxyModeFromConfigMap, readNodeList } from '../src/kube/kubectl.js';
import { nodePodManifest, nodePodName } from '../src/kube/node-pod.js';
import { detectKindEngine } from '../src/providers/kind/engine.js';
import { createClusterArgs, parseKindClusters, parseKindNodes } from '../src/providers/kind/kind-cli.js';
import { judgeModes } from '../src/steps/cluster.js';
import { tempDir } from './helpers/cli.js';
import { FakeRunner } from './helpers/fake-runner.js';

describe('kubectl readers', () => {
  const ds = (status: Record<string, number>, generation = 1) => ({ metadata: { name: 'kube-proxy', generation }, status: { observedGeneration: 1, ...status } });

  test('isDaemonSetRolledOut says how far the rollout is', () => {
    assert.deepEqual(isDaemonSetRolledOut(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 1, numberReady: 1 })), {
      done: false,
      message: 'kube-proxy: 2/3 pods updated, 1/3 available, 1/3 ready',
    });
    assert.equal(isDaemonSetRolledOut(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 })).done, true);
    assert.deepEqual(isDaemonSetRolledOut(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }, 2)), {
      done: false,
      message: 'kube-proxy: waiting for the controller to observe generation 2 (seen 1)',
    });
    assert.equal(isDaemonSetRolledOut(ds({ desiredNumberScheduled: 0 })).done, false, 'kube-proxy must run somewhere');
  });

  test('isDeploymentAvailable needs the Available condition and every replica', () => {
    const deployment = (available: number, condition: string) => ({ metadata: { name: 'coredns' }, spec: { replicas: 2 }, status: { availableReplicas: available, updatedReplicas: 2, conditions: [{ type: 'Available', status: condition }] } });
    assert.equal(isDeploymentAvailable(deployment(2, 'True')).done, true);
    assert.deepEqual(isDeploymentAvailable(deployment(1, 'True')), { done: false, message: 'coredns: 1/2 replicas available, 2/2 updated' });
    assert.equal(isDeploymentAvailable(deployment(2, 'False')).done, false);
  });

  test('proxyModeFromConfigMap reads config.conf; an empty mode is the default', () => {
    const cm = (conf: string) => ({ data: { 'config.conf': conf } });
    assert.equal(proxyModeFromConfigMap(cm('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n')), 'ipvs');
    assert.equal(proxyModeFromConfigMap(cm('kind: KubeProxyConfiguration\nmode: ""\n')), '');
    assert.throws(() => proxyModeFromConfigMap({ data: {} }), /has no config\.conf/);
  });

  test('readNodeList keeps names, InternalIPs (canonical), readiness, the zone label and the kubelet version', () => {
    const nodes = readNodeList({
      items: [
        {
          metadata: { name: 'a', labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
          status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'InternalIP', address: 'FC00:F853:CCD:E793::2' }, { type: 'Hostname', address: 'a' }], conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.11' } },
        },
        { metadata: { name: 'b', labels: { 'topology.kubernetes.io/zone': '' } }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } },
      ],
    });
    assert.deepEqual(nodes, [
      { name: 'a', internalIPs: ['172.18.0.2', 'fc00:f853:ccd:e793::2'], ready: true, zone: 'zone-a', kubeletVersion: 'v1.34.11' },
      { name: 'b', internalIPs: [], ready: false, zone: null, kubeletVersion: null },
    ]);
  });
});

describe('node addresses and kube-ipvs0', () => {
  test('parseIpAddrOneline reads iproute2 and busybox lines, strips @ifN and canonicalises', () => {
    const text = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '3: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever',
      '11: eth0@if12    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '11: eth0@if12    inet6 FC00:F853:0CCD:E793:0000:0000:0000:0002/64 scope global nodad \\       valid_lft forever preferred_lft forever',
      '2: eth0    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff',
      'garbage',
    ].join('\n');
    assert.deepEqual(parseIpAddrOneline(text), [
      { ifname: 'lo', family: 4, address: '127.0.0.1', prefix: 8 },
      { ifname: 'kube-ipvs0', family: 4, address: '10.96.0.1', prefix: 32 },
      { ifname: 'eth0', family: 4, address: '172.18.0.2', prefix: 16 },
      { ifname: 'eth0', family: 6, address: 'fc00:f853:ccd:e793::2', prefix: 64 },
    ]);
  });

  test('compareKubeIpvs0: missing addresses fail, extra ones warn, other families are out of scope', () => {
    const findings = compareKubeIpvs0(['10.96.0.1', '10.96.0.10', 'fd00::1'], ['10.96.0.1', '10.96.7.7', 'fd00::9'], [4]);
    assert.deepEqual(findings.map((f) => [f.kind, f.severity, f.message]), [
      ['missing-kube-ipvs0-address', 'failure', '10.96.0.10 is not bound to kube-ipvs0'],
      ['unexpected-kube-ipvs0-address', 'warning', '10.96.7.7 is bound to kube-ipvs0 but no Service uses it'],
    ]);
  });
});

describe("kind's command line", () => {
  test('get clusters / get nodes output', () => {
    assert.deepEqual(parseKindClusters('kind\nlocal-up\n'), ['kind', 'local-up']);
    assert.deepEqual(parseKindClusters('No kind clusters found.\n'), []);
    assert.deepEqual(parseKindNodes('ha-control-plane\nha-control-plane2\nha-external-load-balancer\nha-worker\n'), ['ha-control-plane', 'ha-control-plane2', 'ha-worker']);
  });

  test('create cluster never passes --wait and passes --retain only when asked', () => {
    assert.deepEqual(createClusterArgs({ name: 'n', config: '/s/n/kind-config.yaml', kubeconfig: '/s/n/kubeconfig', retain: false }), ['create', 'cluster', '--name', 'n', '--config', '/s/n/kind-config.yaml', '--kubeconfig', '/s/n/kubeconfig']);
    assert.deepEqual(createClusterArgs({ name: 'n', config: 'c', kubeconfig: 'k', retain: true }).at(-1), '--retain');
  });
});

describe('engine detection as kind does it', () => {
  const binWith = (...names: string[]) => {
    const dir = tempDir('local-up-engines-');
    for (const name of names) {
      writeFileSync(join(dir, name), '#!/bin/sh\n');
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  };

  test('a podman shim installed as docker is not Docker: kind moves on to podman', async () => {
    const dir = binWith('docker', 'podman');
    const runner = new FakeRunner([
      { match: [join(dir, 'docker'), '-v'], respond: { stdout: 'podman version 5.2.2\n' } },
      { match: [join(dir, 'podman'), '-v'], respond: { stdout: 'podman version 5.2.2\n' } },
      { match: [join(dir, 'podman'), 'info'], respond: { stdout: 'host: ...\n' } },
    ]);
    const engine = await detectKindEngine(runner, { PATH: dir });
    assert.equal(engine.tool.name, 'podman');
    assert.equal(engine.running, true);
    assert.equal(engine.via, 'autodetect');
  });

  test('docker before nerdctl before podman; a stopped daemon is reported with its words', async () => {
    const dir = binWith('docker', 'nerdctl', 'podman');
    const runner = new FakeRunner([
      { match: [join(dir, 'docker'), '-v'], respond: { stdout: 'Docker version 27.3.1, build ce12230\n' } },
      { match: [join(dir, 'docker'), 'info'], respond: { exitCode: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' } },
    ]);
    const engine = await detectKindEngine(runner, { PATH: dir });
    assert.equal(engine.tool.name, 'docker');
    assert.equal(engine.running, false);
    assert.match(engine.problem ?? '', /^docker info: Cannot connect to the Docker daemon/);
  });

  test('KIND_EXPERIMENTAL_PROVIDER forces an engine; an unknown value is ignored like kind does', async () => {
    const dir = binWith('docker', 'podman');
    const forced = new FakeRunner([{ match: [join(dir, 'podman'), 'info'], respond: {} }]);
    const engine = await detectKindEngine(forced, { PATH: dir, KIND_EXPERIMENTAL_PROVIDER: 'podman' });
    assert.equal(engine.tool.name, 'podman');
    assert.equal(engine.via, 'KIND_EXPERIMENTAL_PROVIDER');
    const unknown = new FakeRunner([
      { match: [join(dir, 'docker'), '-v'], respond: { stdout: 'Docker version 27.3.1, build ce12230\n' } },
      { match: [join(dir, 'docker'), 'info'], respond: {} },
    ]);
    const fallback = await detectKindEngine(unknown, { PATH: dir, KIND_EXPERIMENTAL_PROVIDER: 'lxc' });
    assert.equal(fallback.tool.name, 'docker');
    assert.equal(fallback.ignoredSetting, 'lxc');
  });
});

describe('mode proof and helper pods', () => {
  test('judgeModes: configured and every /proxyMode must equal the requested mode', () => {
    const ok = judgeModes('ipvs', { mode: 'ipvs', source: 'ConfigMap' }, [{ node: 'a', endpoint: { mode: 'ipvs', error: null } }]);
    assert.equal(ok.ok, true);
    const bad = judgeModes('ipvs', { mode: '', source: 'ConfigMap' }, [{ node: 'a', endpoint: { mode: null, error: 'curl: (7) refused' } }]);
    assert.deepEqual(bad.problems, [
      'ConfigMap says mode "" (kube-proxy\'s default, iptables), not "ipvs"',
      'node a: /proxyMode on 127.0.0.1 port 10249 did not answer (curl: (7) refused)',
    ]);
  });

  test('helper pod names are DNS-1123 and at most 63 characters', () => {
    assert.equal(nodePodName('kind-worker', 'abc123'), 'local-up-ipvs-kind-worker-abc123');
    const long = nodePodName('Node.Example.COM-'.repeat(6), 'abc123');
    assert.ok(long.length <= 63);
    assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const manifest = nodePodManifest('p', 'n', 'busybox:1.36') as { spec: { activeDeadlineSeconds: number; restartPolicy: string } };
    assert.equal(manifest.spec.restartPolicy, 'Never');
    assert.ok(manifest.spec.activeDeadlineSeconds > 0, 'a leaked pod ends by itself');
  });
});
