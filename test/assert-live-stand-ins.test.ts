// `local-up assert` live mode against stand-in kubectl/docker/kind: a cluster
// kube-local-up did not create (helper pod per node, deleted afterwards) and a
// cluster `up` created (the provider's node access).
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, tempDir } from './helpers/cli.js';
import { foreignWorld, ipvsKernelRoot, makeWorld, runCli, standInEnv, standInFixture, waitFor } from './helpers/stand-ins.js';
import type { WorldCluster } from './helpers/stand-ins.js';

const assertFixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'assert', name), 'utf8');
const KIND_WORKER_IPVS0 = ['10.96.0.1', '10.96.0.10', '10.96.9.9', '10.96.45.12', '10.96.200.7', '172.18.255.200'];

/** The cluster "ext" made elsewhere, its node with an IPv6 link-local address too (never a NodePort address). */
const foreignIpvsWorld = (options: { ipvsText?: string; kubeIpvs0?: string[]; execHang?: boolean } = {}) =>
  foreignWorld({
    ...options,
    kubeIpvs0: options.kubeIpvs0 ?? KIND_WORKER_IPVS0,
    moreAddresses: ['9: eth0@if10    inet6 fe80::42:acff:fe12:3/64 scope link \\       valid_lft forever preferred_lft forever'],
  });

/**
 * The foreign world with kube-dns's two endpoints hinted for zones (10.244.0.2 for zone-a, 10.244.0.3
 * for zone-b) and its node labelled/versioned as given. The node's table keeps both endpoints.
 */
function zoneHintWorld(node: { zone?: string; kubeletVersion?: string }) {
  const made = foreignIpvsWorld();
  const state = made.world.read();
  const cluster = state.clusters.ext as WorldCluster;
  const services = cluster.services as { items: { kind: string; metadata: { name: string }; endpoints?: { addresses: string[]; hints?: unknown }[] }[] };
  for (const item of services.items) {
    if (item.kind !== 'EndpointSlice' || item.metadata.name !== 'kube-dns-z4f8m') continue;
    for (const ep of item.endpoints ?? []) ep.hints = { forZones: [{ name: ep.addresses[0] === '10.244.0.2' ? 'zone-a' : 'zone-b' }] };
  }
  const worldNode = cluster.nodes[0] as WorldCluster['nodes'][number];
  if (node.zone !== undefined) worldNode.labels = { 'topology.kubernetes.io/zone': node.zone };
  if (node.kubeletVersion !== undefined) worldNode.kubeletVersion = node.kubeletVersion;
  made.world.write(state);
  return made;
}

describe('assert, live mode (stand-ins)', () => {
  // kube-proxy follows zone hints only on a node with a zone label (pkg/proxy/topology.go), and from
  // 1.31 without the Service's hints annotation (v1.29.15 canUseTopology wants it): live assert must
  // hand the Node's zone and its release (kubelet version) to the model, as offline assert does.
  test('zone hints: the node\'s zone label and kubelet version reach the model', async () => {
    const hinted = zoneHintWorld({ zone: 'zone-a', kubeletVersion: 'v1.34.11' });
    const result = await runCli(['assert', '--all-nodes', '--kubeconfig', hinted.kubeconfig], standInEnv(hinted.world));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /10\.244\.0\.3:53/);
    assert.doesNotMatch(result.stdout, /10\.244\.0\.2:53 /);
    // The same node on 1.29 (no hints annotation on the Service): kube-proxy keeps every endpoint.
    const old = zoneHintWorld({ zone: 'zone-a', kubeletVersion: 'v1.29.15' });
    assert.equal((await runCli(['assert', '--all-nodes', '--kubeconfig', old.kubeconfig], standInEnv(old.world))).code, 0);
    // KUBE_VERSION given explicitly wins over the kubelet's.
    const pinned = await runCli(['assert', '--all-nodes', '--kubeconfig', old.kubeconfig], { ...standInEnv(old.world), KUBE_VERSION: '1.34' });
    assert.equal(pinned.code, 1, pinned.stdout);
    // No zone label: zone hints never apply.
    const unzoned = zoneHintWorld({ kubeletVersion: 'v1.34.11' });
    assert.equal((await runCli(['assert', '--all-nodes', '--kubeconfig', unzoned.kubeconfig], standInEnv(unzoned.world))).code, 0);
  });

  test('a cluster kube-local-up did not create: --all-nodes reads through a host-network helper pod, then deletes it', async () => {
    const { world, kubeconfig } = foreignIpvsWorld();
    const result = await runCli(['assert', '--all-nodes', '--kubeconfig', kubeconfig], standInEnv(world));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^IPVS on node kind-worker \(IPv4\): OK: 10 virtual servers of 7 Service ports match$/m);
    assert.doesNotMatch(result.stdout, /jiffies/, 'HZ was read from the node, so persistence was compared in seconds');

    const created = world.calls('kubectl').find((c) => c.argv.includes('create'));
    const pod = JSON.parse(created?.stdin ?? '{}');
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.spec.nodeName, 'kind-worker');
    assert.equal(pod.spec.hostNetwork, true);
    assert.equal(pod.spec.containers[0].securityContext, undefined, 'no privilege requested');
    assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists' }]);
    const name = pod.metadata.name as string;
    assert.match(name, /^local-up-ipvs-kind-worker-[0-9a-f]{6}$/);
    const calls = world.calls('kubectl').map((c) => c.argv.slice(2).join(' '));
    assert.ok(calls.includes(`-n kube-system exec ${name} -- cat -- /proc/net/ip_vs`));
    assert.ok(calls.includes(`-n kube-system exec ${name} -- ip -o addr show`));
    assert.ok(calls.includes(`-n kube-system delete pod ${name} --ignore-not-found --wait=false`));
    assert.deepEqual(world.read().clusters.ext?.pods, {});
  });

  test('a helper pod that never gets Ready (kubectl wait times out): exit 3 naming the pod, and the pod is deleted', async () => {
    const { world, kubeconfig } = foreignIpvsWorld();
    world.write({ ...world.read(), kubectl: { waitTimesOut: true } });
    const result = await runCli(['assert', '--all-nodes', '--kubeconfig', kubeconfig], standInEnv(world));
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /helper pod kube-system\/local-up-ipvs-kind-worker-[0-9a-f]{6} did not start on node kind-worker/);
    assert.match(result.stderr, /timed out waiting for the condition/);
    assert.deepEqual(world.read().clusters.ext?.pods, {});
  });

  test('a mismatch exits 1 with the report grouped by Service, kube-ipvs0 included, and still deletes the pod', async () => {
    const { world, kubeconfig } = foreignIpvsWorld({ ipvsText: assertFixture('proc-net-ip_vs-ok.txt').replace(/ {2}-> 0AF40003:0035[^\n]*\n(?=TCP {2}0A600001)/, ''), kubeIpvs0: KIND_WORKER_IPVS0.filter((a) => a !== '10.96.45.12') });
    const junit = join(tempDir(), 'ipvs.xml');
    const result = await runCli(['assert', '--all-nodes', '--kubeconfig', kubeconfig, '--junit', junit], standInEnv(world));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^FAIL kube-system\/kube-dns dns-tcp: missing real server 10\.244\.0\.3:53 on TCP\/10\.96\.0\.10:53$/m);
    assert.match(result.stdout, /^FAIL kube-ipvs0 addresses: 10\.96\.45\.12 is not bound to kube-ipvs0$/m);
    assert.match(readFileSync(junit, 'utf8'), /<testcase name="kube-ipvs0 addresses" classname="ipvs\.kind-worker" time="0\.000">\n {6}<failure message="10\.96\.45\.12 is not bound to kube-ipvs0"/);
    assert.deepEqual(world.read().clusters.ext?.pods, {});
  });

  test('Ctrl-C while reading through the helper pod: the pod is deleted, exit 130', async () => {
    const { world, kubeconfig } = foreignIpvsWorld({ execHang: true });
    const marker = join(world.dir, 'kubectl-exec-hanging');
    const result = await runCli(['assert', '--all-nodes', '--kubeconfig', kubeconfig], standInEnv(world), (child) => {
      void waitFor(() => existsSync(marker)).then(() => child.kill('SIGINT'));
    });
    assert.equal(result.code, 130, result.stderr);
    assert.ok(world.calls('kubectl').some((c) => c.argv.includes('delete') && c.argv.includes('pod')));
    assert.deepEqual(world.read().clusters.ext?.pods, {});
    await waitFor(() => world.livePids().length === 0, 5_000);
  });

  test('--host local reads this machine: /proc/net/ip_vs under HOST_ROOT and the real `ip -o addr`', async () => {
    const { world, kubeconfig } = foreignIpvsWorld();
    const root = ipvsKernelRoot();
    mkdirSync(join(root, 'proc', 'net'), { recursive: true });
    writeFileSync(join(root, 'proc', 'net', 'ip_vs'), standInFixture('proc-net-ip_vs-fresh.txt'));
    const fresh = { ...world.read() };
    (fresh.clusters.ext as WorldCluster).services = JSON.parse(standInFixture('cluster-fresh.json'));
    world.write(fresh);
    const result = await runCli(['assert', '--host', 'local', '--kubeconfig', kubeconfig, '--node-name', 'this-node'], standInEnv(world, { hostRoot: root }));
    // The table matches; this machine has no kube-ipvs0, so its Service addresses are reported missing.
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^IPVS on node this-node \(IPv4\): FAIL: 2 failures$/m);
    assert.match(result.stdout, /expected 4 virtual servers for 4 Service ports; the table has 4 \(4 matched, 0 ignored\)/);
    assert.match(result.stdout, /^FAIL kube-ipvs0 addresses: 10\.96\.0\.1 is not bound to kube-ipvs0$/m);
    assert.equal(world.calls('docker').length, 0);
  });

  test('without a state file, live mode asks how to reach the nodes (exit 2)', async () => {
    const { world, kubeconfig } = foreignIpvsWorld();
    const result = await runCli(['assert', '--kubeconfig', kubeconfig], standInEnv(world));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error: kube-local-up has no record of a cluster named "local-up"/);
    assert.match(result.stderr, /hint: for a cluster kube-local-up did not create use --all-nodes/);
    const missing = await runCli(['assert', '--all-nodes', '--kubeconfig', '/nonexistent/kubeconfig'], standInEnv(world));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: kubeconfig \/nonexistent\/kubeconfig does not exist/);
    assert.equal(world.calls('kubectl').length, 0);
  });

  test('a cluster up created: every node through the engine exec, --json and --junit', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(['up', '--mode', 'ipvs', '--name', 'kind', '--workers', '1'], env)).code, 0);
    const junit = join(tempDir(), 'ipvs.xml');
    const result = await runCli(['assert', '--name', 'kind', '--json', '--junit', junit], env);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.ok, true);
    assert.deepEqual(parsed.nodes.map((n: { node: string; ok: boolean }) => [n.node, n.ok]), [['kind-control-plane', true], ['kind-worker', true]]);
    assert.match(readFileSync(junit, 'utf8'), /<testsuite name="ipvs kind-control-plane"[^>]*failures="0"/);
    const one = await runCli(['assert', '--name', 'kind', '--node-name', 'kind-worker'], env);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^IPVS on node kind-worker/);
    assert.doesNotMatch(one.stdout, /kind-control-plane/);
  });
});
