// `local-up up/down/status/logs` with the kind provider, run as a real process
// against stand-in kind, docker and kubectl executables (test doubles that keep
// a small shared world and record their calls). Not an end-to-end test: no
// container engine or cluster exists here; `npm run e2e` is the real thing.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from './helpers/cli.js';
import { FRESH_KUBE_IPVS0, STAND_INS, makeWorld, noIpvsKernelRoot, runCli, standInEnv, standInFixture, waitFor } from './helpers/stand-ins.js';

const UP = ['up', '--mode', 'ipvs', '--name', 'kind', '--workers', '1'];
const stateFile = (env: Record<string, string | undefined>, name = 'kind') => join(env.STATE_DIR as string, name, 'state.json');
const argvs = (world: ReturnType<typeof makeWorld>, tool: 'kind' | 'docker' | 'kubectl') => world.calls(tool).map((c) => c.argv.join(' '));

describe('up with the kind provider (stand-ins)', () => {
  test('happy path in ipvs mode: cluster created, mode proven, IPVS asserted, summary and state file', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 0, result.stderr);

    const kubeconfig = join(env.STATE_DIR as string, 'kind', 'kubeconfig');
    assert.match(result.stdout, new RegExp(`kubeconfig  ${kubeconfig}`));
    assert.match(result.stdout, new RegExp(`export KUBECONFIG=${kubeconfig}$`, 'm'));
    assert.match(result.stdout, /node {8}kind-control-plane: \/proxyMode ipvs; IPVS OK \(4 virtual servers match\)/);
    assert.match(result.stdout, /node {8}kind-worker: \/proxyMode ipvs; IPVS OK/);
    assert.match(result.stdout, /assertions {2}PASS: .* on 2 nodes/);
    assert.match(result.stdout, /tear down {3}local-up down/);

    // kind got the generated config from STATE_DIR/<name>/ and a private kubeconfig; no --wait (it exits 0 on timeout).
    const config = join(env.STATE_DIR as string, 'kind', 'kind-config.yaml');
    assert.deepEqual(argvs(world, 'kind').filter((a) => a.startsWith('create')), [`create cluster --name kind --config ${config} --kubeconfig ${kubeconfig}`]);
    assert.match(readFileSync(config, 'utf8'), /kubeProxyMode: ipvs/);
    assert.ok(existsSync(kubeconfig));

    const state = JSON.parse(readFileSync(stateFile(env), 'utf8'));
    assert.equal(state.provider, 'kind');
    assert.equal(state.kubeconfig, kubeconfig);
    assert.equal(state.proxyMode, 'ipvs');
    assert.deepEqual(state.details.nodes, ['kind-control-plane', 'kind-worker']);
    assert.equal(state.details.engine, 'docker');
    assert.equal(state.details.upPhase, 'ready');

    // Each node's table was read through the engine's exec, HZ from its kernel config.
    for (const node of ['kind-control-plane', 'kind-worker']) {
      assert.ok(argvs(world, 'docker').includes(`exec ${node} cat -- /proc/net/ip_vs`));
      assert.ok(argvs(world, 'docker').includes(`exec ${node} zcat -- /proc/config.gz`));
      assert.ok(argvs(world, 'docker').includes(`exec ${node} curl -fsS --max-time 5 http://127.0.0.1:10249/proxyMode`));
    }
    // Every kubectl call named the private kubeconfig (except the version probe).
    for (const call of world.calls('kubectl').filter((c) => c.argv[0] !== 'version')) assert.deepEqual(call.argv.slice(0, 2), ['--kubeconfig', kubeconfig]);
  });

  test('kind missing and KIND_AUTO_INSTALL=false: exit 3 with the install hint, nothing created', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { tools: ['docker', 'kubectl'] });
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /FAIL provider\.kind: kind: kind not found \(KIND setting, PATH, .*kind-v0\.33\.0\)/);
    assert.match(result.stderr, /fix: run `local-up tools install kind`/);
    assert.equal(existsSync(stateFile(env)), false);
    assert.deepEqual(world.read().clusters, {});
  });

  test('engine not running: exit 3 naming the engine, kind create never called', async () => {
    const world = makeWorld({ engineRunning: false });
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /FAIL provider\.engine: .*docker found \(autodetect\), but the engine is not usable: docker info: Cannot connect to the Docker daemon/);
    assert.equal(argvs(world, 'kind').filter((a) => a.startsWith('create')).length, 0);
    assert.equal(existsSync(stateFile(env)), false);
  });

  test('engine not running and kind missing (KIND_AUTO_INSTALL=true): the cheap engine check fails first, nothing is downloaded', async () => {
    const world = makeWorld({ engineRunning: false });
    // Nothing listens on port 9: a download attempt would fail and say "installing".
    const env = standInEnv(world, { tools: ['docker', 'kubectl'], extra: { KIND_AUTO_INSTALL: 'true', KIND_DOWNLOAD_BASE: 'http://127.0.0.1:9', TOOLS_DIR: join(tempDir(), 'tools') } });
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /FAIL provider\.engine: /);
    assert.doesNotMatch(result.stderr, /installing the pinned kind|cannot download kind/);
    assert.equal(existsSync(env.TOOLS_DIR as string), false);
  });

  test('a kernel without IPVS: exit 3, and the hint works for up (not the lab, where no cluster can run)', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { hostRoot: noIpvsKernelRoot() });
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /FAIL kernel\.ipvs: /);
    assert.doesNotMatch(result.stderr, /local-up lab/);
    assert.match(result.stderr, /KUBE_PROXY_MODE=nftables/);
    assert.equal(world.calls('kind').filter((c) => c.argv[0] === 'create').length, 0);
  });

  test('a cluster of that name exists: exit 2 with the --reuse/down hint, nothing deleted', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(UP, env)).code, 0);
    const before = world.read().clusters.kind;
    const again = await runCli(UP, env);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /error: kube-local-up already created a cluster named "kind" \(kind, .*\); nothing was changed/);
    assert.match(again.stderr, /hint: use it as it is with `local-up up --reuse`, delete it with `local-up down`/);
    assert.deepEqual(world.read().clusters.kind, before);
    assert.equal(argvs(world, 'kind').filter((a) => a.startsWith('delete')).length, 0);

    // Not created by kube-local-up (no state file): same refusal, with --name in the hint.
    const other = makeWorld({ clusters: { kind: { nodes: [], kubeProxyMode: 'ipvs', pods: {} } } });
    const otherResult = await runCli(UP, standInEnv(other));
    assert.equal(otherResult.code, 2);
    assert.match(otherResult.stderr, /a kind cluster named "kind" already exists; nothing was changed/);
    assert.match(otherResult.stderr, /`local-up down --name kind`/);
    assert.ok(other.read().clusters.kind !== undefined);

    // --reuse proves and asserts the existing cluster instead.
    const reused = await runCli([...UP, '--reuse'], env);
    assert.equal(reused.code, 0, reused.stderr);
    assert.match(reused.stdout, /Cluster "kind" is up \(reused\)/);
    assert.match(reused.stderr, /Create the kind cluster "kind": skipped \(reusing the existing cluster \(--reuse\)\)/);
  });

  test('create fails: kind delete cluster is called, no state file, nothing left', async () => {
    const world = makeWorld({ create: 'fail' });
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /error: kind create cluster --name kind failed: .* exited with code 1/);
    assert.match(result.stderr, /failed to init node with kubeadm/);
    assert.match(result.stderr, /cleaning up: deleting the kind cluster "kind" this run created/);
    assert.ok(argvs(world, 'kind').includes(`delete cluster --name kind --kubeconfig ${join(env.STATE_DIR as string, 'kind', 'kubeconfig')}`));
    assert.equal(existsSync(stateFile(env)), false);
    assert.deepEqual(world.read().clusters, {});
  });

  test('Ctrl-C during create: the cluster is deleted, exit 130, no stand-in process left', async () => {
    const world = makeWorld({ create: 'hang' });
    const env = standInEnv(world);
    const marker = join(world.dir, 'kind-create-hanging');
    const result = await runCli(UP, env, (child) => {
      void waitFor(() => existsSync(marker)).then(() => child.kill('SIGINT'));
    });
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted: stopping and cleaning up/);
    assert.ok(argvs(world, 'kind').some((a) => a.startsWith('delete cluster --name kind')));
    assert.deepEqual(world.read().clusters, {});
    assert.equal(existsSync(stateFile(env)), false);
    await waitFor(() => world.livePids().length === 0, 5_000);
  });

  test('kube-proxy never ready: the timeout names kube-proxy and shows its log tail; cleaned up', async () => {
    const world = makeWorld({ kubeProxyReady: false, kubeProxyLog: 'I0101 server.go:1] "Using ipvs Proxier"\nE0101 server.go:2] "Error running ProxyServer" err="can\'t use the IPVS proxier: ipset not found"' });
    const env = standInEnv(world, { extra: { READY_TIMEOUT: '2' } });
    const result = await runCli(UP, env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: kube-proxy did not become ready within 2s \(READY_TIMEOUT\): kube-proxy: 2\/2 pods updated, 0\/2 available, 0\/2 ready/);
    assert.match(result.stderr, /kubectl -n kube-system logs kube-proxy-0x18 --tail=40 \(node kind-control-plane, Running\):/);
    assert.match(result.stderr, /can't use the IPVS proxier: ipset not found/);
    // The evidence is kept before the cluster goes: kind's export and every node's IPVS table.
    const kept = /kept the failed cluster's logs in (\S+)/.exec(result.stderr)?.[1];
    assert.ok(kept !== undefined, result.stderr);
    assert.ok(kept.startsWith(join(env.STATE_DIR as string, 'kind', 'logs', 'failed-up-')), kept);
    assert.ok(existsSync(join(kept, 'nodes', 'kind-control-plane', 'proc-net-ip_vs.txt')));
    assert.ok(argvs(world, 'kind').some((a) => a.startsWith('export logs')), argvs(world, 'kind').join('\n'));
    assert.deepEqual(world.read().clusters, {});
    assert.equal(existsSync(stateFile(env)), false);
  });

  test('--retain keeps what a failed run created, and the state file for down', async () => {
    const world = makeWorld({ kubeProxyReady: false });
    const env = standInEnv(world, { extra: { READY_TIMEOUT: '1' } });
    const result = await runCli([...UP, '--retain'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /kept the cluster "kind" \(--retain\)/);
    assert.ok(argvs(world, 'kind').includes(`create cluster --name kind --config ${join(env.STATE_DIR as string, 'kind', 'kind-config.yaml')} --kubeconfig ${join(env.STATE_DIR as string, 'kind', 'kubeconfig')} --retain`));
    assert.ok(world.read().clusters.kind !== undefined);
    assert.ok(existsSync(stateFile(env)));
    const down = await runCli(['down', '--name', 'kind'], env);
    assert.equal(down.code, 0);
    assert.deepEqual(world.read().clusters, {});
  });

  test('assertions fail: exit 1 with the report grouped by Service', async () => {
    const world = makeWorld({ overrides: { 'kind-worker': { ipvsText: standInFixture('proc-net-ip_vs-fresh-missing-dns-endpoint.txt') } } });
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^IPVS on node kind-control-plane \(IPv4\): OK/m);
    assert.match(result.stdout, /^IPVS on node kind-worker \(IPv4\): FAIL: 1 failure/m);
    assert.match(result.stdout, /^FAIL kube-system\/kube-dns dns: missing real server 10\.244\.0\.3:53 on UDP\/10\.96\.0\.10:53$/m);
    assert.match(result.stderr, /error: the IPVS table does not match the Services on kind-worker/);
    assert.deepEqual(world.read().clusters, {}, 'a failed up deletes what it created');
  });

  test('a node whose kube-proxy runs in another mode fails the mode proof', async () => {
    const world = makeWorld({ overrides: { 'kind-worker': { proxyMode: 'iptables' } } });
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: kube-proxy does not run in ipvs mode everywhere/);
    assert.match(result.stderr, /node kind-worker: kube-proxy runs in "iptables" mode, not "ipvs" \(\/proxyMode\)/);
  });

  test('iptables mode: the mode is proven on every node, no IPVS step runs, the kernel is not required', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { hostRoot: '/nonexistent-root' });
    const result = await runCli(['up', '--mode', 'iptables', '--name', 'kind'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /node {8}kind-control-plane: \/proxyMode iptables$/m);
    assert.match(result.stdout, /assertions {2}IPVS assertions skipped \(KUBE_PROXY_MODE=iptables\)/);
    assert.doesNotMatch(result.stderr, /Assert the IPVS table|Load the IPVS kernel modules/);
    assert.equal(argvs(world, 'docker').filter((a) => a.includes('/proc/net/ip_vs')).length, 0);
  });

  test('ipvs mode on a kernel without IPVS: exit 3 before anything is created', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { hostRoot: '/nonexistent-root' });
    const result = await runCli(UP, env);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /error: this kernel \(this machine \(files under \/nonexistent-root\)\) cannot run kube-proxy in IPVS mode/);
    assert.deepEqual(world.calls('kind').filter((c) => c.argv[0] === 'create'), []);
  });

  test('doctor shows where each kind tool was found and its version', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const result = await runCli(['doctor'], env);
    assert.match(result.stdout, /PASS {2}provider\.engine +Container engine for kind: docker at \S+\/docker is running \(autodetected as kind does; Docker version 27\.3\.1, build ce12230\)/);
    assert.match(result.stdout, /PASS {2}provider\.kind +kind: \S+\/kind \(found via PATH\): kind v0\.33\.0 go1\.24\.6 linux\/amd64/);
    assert.match(result.stdout, /PASS {2}provider\.kubectl +kubectl: \S+\/kubectl \(found via PATH\): Client Version: v1\.34\.1/);
    const viaSetting = await runCli(['doctor'], { ...standInEnv(world, { tools: ['docker', 'kubectl'] }), KIND: join(STAND_INS, 'kind') });
    assert.match(viaSetting.stdout, /provider\.kind +kind: \S+\/test\/stand-ins\/kind \(found via KIND setting\)/);
  });

  test('up --dry-run shows the kind command line and the generated config, touching nothing', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const result = await runCli([...UP, '--dry-run'], env);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /kind create cluster --name kind --config .*\/state\/kind\/kind-config\.yaml --kubeconfig .*\/state\/kind\/kubeconfig/);
    assert.match(result.stdout, /^ {9}kubeProxyMode: ipvs$/m);
    assert.deepEqual(world.calls(), []);
    assert.equal(existsSync(env.STATE_DIR as string), false);
  });
});

describe('down, status, logs (stand-ins)', () => {
  test('down deletes what up created and is idempotent; an unrecorded cluster is left alone', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(UP, env)).code, 0);
    const first = await runCli(['down', '--name', 'kind'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'deleted the kind cluster "kind"\n');
    assert.deepEqual(world.read().clusters, {});
    assert.equal(existsSync(stateFile(env)), false);
    assert.equal(existsSync(join(env.STATE_DIR as string, 'kind', 'kubeconfig')), false);
    const second = await runCli(['down', '--name', 'kind'], env);
    assert.equal(second.code, 0);
    assert.equal(second.stdout, 'no cluster named "kind": nothing to delete\n');

    const foreign = makeWorld({ clusters: { 'local-up': { nodes: [], kubeProxyMode: 'iptables', pods: {} } } });
    const foreignResult = await runCli(['down'], standInEnv(foreign));
    assert.equal(foreignResult.code, 0);
    assert.match(foreignResult.stdout, /exists, but kube-local-up has no record of creating it; nothing was deleted/);
    assert.ok(foreign.read().clusters['local-up'] !== undefined);
    assert.equal(foreign.calls('kind').filter((c) => c.argv[0] === 'delete').length, 0);
  });

  test('status shows nodes, mode per node and a fresh assertion summary', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(UP, env)).code, 0);
    const text = await runCli(['status', '--name', 'kind'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^cluster {5}kind \(kind, Kubernetes 1\.34\.11, created .*\): running$/m);
    assert.match(text.stdout, /^kind-worker +true +ipvs +OK \(4 virtual servers match\)$/m);
    assert.match(text.stdout, /^status: OK$/m);

    const json = await runCli(['status', '--name', 'kind', '--json'], env);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.ok, true);
    assert.deepEqual(parsed.nodes.map((n: { name: string; proxyMode: string }) => [n.name, n.proxyMode]), [['kind-control-plane', 'ipvs'], ['kind-worker', 'ipvs']]);
    assert.deepEqual(parsed.assertions.map((a: { ok: boolean }) => a.ok), [true, true]);

    // The cluster drifts: status says so with exit 1.
    const drifted = world.read();
    const worker = drifted.clusters.kind?.nodes[1];
    assert.ok(worker !== undefined);
    worker.files['/proc/net/ip_vs'] = standInFixture('proc-net-ip_vs-fresh-missing-dns-endpoint.txt');
    world.write(drifted);
    const bad = await runCli(['status', '--name', 'kind'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /node kind-worker: IPVS FAIL \(1 failure\)/);

    const gone = world.read();
    delete gone.clusters.kind;
    world.write(gone);
    const missing = await runCli(['status', '--name', 'kind'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /: GONE$/m);
    assert.match(missing.stdout, /the kind cluster "kind" recorded in the state file no longer exists \(clean up with: local-up down\)/);

    const none = await runCli(['status', '--name', 'other'], env);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /no cluster named "other" recorded/);
  });

  test('logs collects kind logs, per-node IPVS tables, kube-ipvs0 addresses, ipsets and kube-proxy logs', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    assert.equal((await runCli(UP, env)).code, 0);
    const result = await runCli(['logs', '--name', 'kind'], env);
    assert.equal(result.code, 0, result.stderr);
    const dir = /^logs of "kind" written to (\S+)$/m.exec(result.stdout)?.[1] as string;
    assert.ok(dir.startsWith(join(env.STATE_DIR as string, 'kind', 'logs', 'collect-')));
    assert.ok(existsSync(join(dir, 'kind', 'kind-version.txt')));
    assert.ok(argvs(world, 'kind').includes(`export logs ${join(dir, 'kind')} --name kind`));
    for (const node of ['kind-control-plane', 'kind-worker']) {
      const nodeDir = join(dir, 'nodes', node);
      assert.equal(readFileSync(join(nodeDir, 'proc-net-ip_vs.txt'), 'utf8'), standInFixture('proc-net-ip_vs-fresh.txt'));
      assert.equal(readFileSync(join(nodeDir, 'kube-ipvs0.txt'), 'utf8'), `${FRESH_KUBE_IPVS0.map((a) => `${a}/32`).join('\n')}\n`);
      assert.match(readFileSync(join(nodeDir, 'ipset-list.txt'), 'utf8'), /^Name: KUBE-CLUSTER-IP$/m);
      assert.match(readFileSync(join(nodeDir, 'kube-proxy.log'), 'utf8'), /Using ipvs Proxier/);
      assert.equal(readFileSync(join(nodeDir, 'proxy-mode.txt'), 'utf8'), 'ipvs\n');
    }
    assert.ok(world.calls('kubectl').some((c) => c.argv.join(' ').includes('exec kube-proxy-1x11 -- ipset list')));
  });
});

describe('down of nothing: exit 0, writes nothing (issue 14, item 10)', () => {
  const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

  test('with no kind anywhere (not on PATH, no managed copy): nothing to delete, exit 0', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { tools: [], extra: { TOOLS_DIR: tempDir('local-up-tools-') } });
    for (const argv of [['down'], ['down', '--name', 'nothere']]) {
      const result = await runCli(argv, env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /nothing to delete/);
      assert.deepEqual(listing(env.STATE_DIR as string), [], `${argv.join(' ')} wrote into STATE_DIR`);
    }
  });
  test('--name of a cluster that does not exist: no logs folder, no kind delete', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const result = await runCli(['down', '--name', 'nothere'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'no cluster named "nothere": nothing to delete\n');
    assert.deepEqual(listing(env.STATE_DIR as string), []);
    assert.equal(world.calls('kind').filter((c) => c.argv[0] === 'delete').length, 0);
  });
});
