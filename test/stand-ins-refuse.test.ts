// The stand-ins refuse what the real tools refuse (issue 14, item 4), so a test that passes against
// them cannot hide a command line or a config the real kind, docker or kubectl would reject.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from './helpers/cli.js';
import type { CliResult } from './helpers/cli.js';
import { STAND_INS, makeWorld, runCli, standInEnv } from './helpers/stand-ins.js';
import type { World } from './helpers/stand-ins.js';

function standIn(world: World, tool: string, args: readonly string[]): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(join(STAND_INS, tool), args, { env: { PATH: process.env.PATH, STANDIN_STATE: world.dir }, timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function configFile(text: string): string {
  const file = join(tempDir(), 'kind.yaml');
  writeFileSync(file, text);
  return file;
}

const GOOD = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: ipvs\nnodes:\n- role: control-plane\n- role: worker\n';

describe('stand-in kind', () => {
  test('an unknown flag: exit 1, "unknown flag", nothing created', async () => {
    const world = makeWorld();
    const result = await standIn(world, 'kind', ['create', 'cluster', '--name', 'x', '--config', configFile(GOOD), '--nodes', '3']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ERROR: unknown flag: --nodes$/m);
    assert.deepEqual(world.read().clusters, {});
    assert.equal((await standIn(world, 'kind', ['delete', 'cluster', '--name', 'x', '--retain'])).code, 1);
  });
  test('a config that does not parse, has an unknown field or the wrong apiVersion is refused', async () => {
    for (const [text, message] of [
      ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [\n', /unable to decode config/],
      [`${GOOD}kubeProxyMode: ipvs\n`, /field kubeProxyMode not found in type v1alpha4\.Cluster/],
      ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  proxyMode: ipvs\n', /field proxyMode not found in type v1alpha4\.Networking/],
      ['kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  extraMounts:\n  - hostPath: /a\n    mountPath: /b\n', /field mountPath not found in type v1alpha4\.Mount/],
      ['kind: Cluster\napiVersion: kind.sigs.k8s.io/v1alpha3\n', /unknown apiVersion/],
    ] as const) {
      const world = makeWorld();
      const result = await standIn(world, 'kind', ['create', 'cluster', '--name', 'x', '--config', configFile(text)]);
      assert.equal(result.code, 1, text);
      assert.match(result.stderr, message, text);
      assert.deepEqual(world.read().clusters, {}, text);
    }
  });
  test('the image asked for is the one the nodes run: --image over each node\'s image', async () => {
    const world = makeWorld();
    const text = `${GOOD.replace('- role: worker\n', '- role: worker\n  image: kindest/node:v1.33.7\n')}`;
    assert.equal((await standIn(world, 'kind', ['create', 'cluster', '--name', 'a', '--config', configFile(text), '--kubeconfig', join(tempDir(), 'k')])).code, 0);
    assert.deepEqual(world.read().clusters.a?.nodes.map((n) => n.image), ['kindest/node:v1.34.11', 'kindest/node:v1.33.7']);
    assert.equal((await standIn(world, 'kind', ['create', 'cluster', '--name', 'b', '--config', configFile(text), '--image', 'my/node:dev', '--kubeconfig', join(tempDir(), 'k')])).code, 0);
    assert.deepEqual(world.read().clusters.b?.nodes.map((n) => n.image), ['my/node:dev', 'my/node:dev']);
  });
  test('nodes without /proc/config.gz on demand', async () => {
    const world = makeWorld();
    world.write({ ...world.read(), nodeTemplate: { ...(world.read().nodeTemplate as object), configGz: false } });
    assert.equal((await standIn(world, 'kind', ['create', 'cluster', '--name', 'a', '--config', configFile(GOOD), '--kubeconfig', join(tempDir(), 'k')])).code, 0);
    const exec = await standIn(world, 'docker', ['exec', 'a-control-plane', 'zcat', '/proc/config.gz']);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /No such file or directory/);
  });
  test('a slow delete on demand', async () => {
    const world = makeWorld({ clusters: { a: { nodes: [], pods: {} } } });
    world.write({ ...world.read(), kind: { create: 'ok', deleteDelayMs: 1500 } });
    const result = await standIn(world, 'kind', ['delete', 'cluster', '--name', 'a']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.ms >= 1500, `took ${result.ms} ms`);
    assert.ok(existsSync(join(world.dir, 'kind-delete-slow')));
  });
});

describe('stand-in docker and kubectl', () => {
  test('docker exec refuses an unknown flag (exit 125)', async () => {
    const world = makeWorld();
    const result = await standIn(world, 'docker', ['exec', '--root', 'n', 'cat', '/x']);
    assert.equal(result.code, 125);
    assert.match(result.stderr, /unknown flag: --root/);
  });
  test('kubectl wait can time out, with kubectl\'s message (exit 1)', async () => {
    const world = makeWorld({ clusters: { a: { nodes: [], pods: { p: {} } } } });
    world.write({ ...world.read(), kubectl: { waitTimesOut: true } });
    const kubeconfig = join(tempDir(), 'k');
    writeFileSync(kubeconfig, 'current-context: kind-a\n');
    const result = await standIn(world, 'kubectl', ['--kubeconfig', kubeconfig, '-n', 'kube-system', 'wait', '--for=condition=Ready', 'pod/p', '--timeout=1s']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: timed out waiting for the condition on pods\/p$/m);
  });
});

describe('kube-local-up against the stricter stand-ins', () => {
  test('up honours KIND_NODE_IMAGE: every node runs it', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { extra: { KIND_NODE_IMAGE: 'example.test/node:v1.34.11' } });
    const result = await runCli(['up', '--mode', 'ipvs', '--name', 'img', '--workers', '1'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(world.read().clusters.img?.nodes.map((n) => n.image), ['example.test/node:v1.34.11', 'example.test/node:v1.34.11']);
  });
  test('up and status on nodes without /proc/config.gz: HZ unknown is a note, not a failure', async () => {
    const world = makeWorld();
    world.write({ ...world.read(), nodeTemplate: { ...(world.read().nodeTemplate as object), configGz: false } });
    const env = standInEnv(world);
    const up = await runCli(['up', '--mode', 'ipvs', '--name', 'nohz'], env);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(world.calls('docker').some((c) => c.argv.join(' ').includes('/proc/config.gz')), 'the node was asked for its kernel config');
    const status = await runCli(['status', '--name', 'nohz'], env);
    assert.equal(status.code, 0, status.stderr);
  });
  test('down waits for a slow kind delete and still ends clean', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(['up', '--mode', 'ipvs', '--name', 'slow'], env)).code, 0);
    world.write({ ...world.read(), kind: { create: 'ok', deleteDelayMs: 3000 } });
    const down = await runCli(['down', '--name', 'slow'], env);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(existsSync(join(world.dir, 'kind-delete-slow')), 'the slow delete ran');
    assert.deepEqual(world.read().clusters, {});
  });
});
