// Issue 16: the kind provider where users really run it. Stand-in kind, docker and kubectl
// (test/stand-ins/) play a VM-backed engine whose kernel differs from this machine's, a rootless
// engine, an IPv6 node, an older kind, a cluster kube-local-up did not create, a failed create
// kept with --retain, one node whose kube-proxy never gets ready, and nodes that cannot see HZ.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LazyExecaRunner } from '../src/exec/lazy-runner.js';
import { KIND_NODE_IMAGES } from '../src/kind/images.js';
import { captureIo, captured } from './helpers/cli.js';
import { runCommandLine } from '../src/cli/main.js';
import { DOCKER_DESKTOP_INFO, STAND_INS, dockerDesktopVm, ipvsKernelRoot, makeWorld, noIpvsKernelRoot, runCli, standInEnv } from './helpers/stand-ins.js';

const UP = ['up', '--mode', 'ipvs', '--name', 'kind', '--workers', '1'];
const PINNED_1_34 = KIND_NODE_IMAGES.find((p) => p.kubernetes.startsWith('1.34.'))?.image as string;
const argvs = (world: ReturnType<typeof makeWorld>, tool: 'kind' | 'docker' | 'kubectl') => world.calls(tool).map((c) => c.argv.join(' '));
const PROBE_PREFIX = `run --rm --privileged --net=host -v /lib/modules:/lib/modules:ro --entrypoint`;

describe('1. a VM-backed engine: the engine kernel is judged, not this machine\'s', () => {
  test('doctor --json with Docker Desktop on Linux names the VM kernel and judges it through a privileged node-image container', async () => {
    const world = makeWorld({ engineInfo: DOCKER_DESKTOP_INFO, engineVm: dockerDesktopVm() });
    // This machine's kernel has no IPVS at all: only the VM's counts.
    const env = standInEnv(world, { hostRoot: noIpvsKernelRoot() });
    const result = await runCli(['doctor', '--json', '--mode', 'ipvs'], env);
    const report = JSON.parse(result.stdout);
    assert.equal(report.kernel.judged, 'engine', result.stdout);
    assert.equal(report.kernel.release, '6.10.14-linuxkit');
    assert.match(report.kernel.how, /docker run --rm --privileged --net=host -v \/lib\/modules:\/lib\/modules:ro/);
    const site = report.checks.find((c: { id: string }) => c.id === 'kernel.site');
    assert.match(site.detail, /Linux 6\.10\.14-linuxkit .*Docker Desktop/);
    assert.equal(report.checks.find((c: { id: string }) => c.id === 'kernel.ipvs').status, 'pass');
    assert.equal(report.checks.find((c: { id: string }) => c.id === 'userspace.ipset').status, 'skip');
    assert.ok(argvs(world, 'docker').includes(`${PROBE_PREFIX} cat ${PINNED_1_34} -- /proc/sys/kernel/osrelease`), argvs(world, 'docker').join('\n'));
    assert.equal(result.code, 0, result.stderr);
  });

  test('up with Docker Desktop loads the IPVS modules inside the engine VM and proves the cluster', async () => {
    const world = makeWorld({ engineInfo: DOCKER_DESKTOP_INFO, engineVm: dockerDesktopVm() });
    const env = standInEnv(world, { hostRoot: noIpvsKernelRoot() });
    const result = await runCli(UP, env);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(argvs(world, 'docker').some((a) => a.startsWith(`${PROBE_PREFIX} modprobe ${PINNED_1_34} -a -- ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack`)), argvs(world, 'docker').join('\n'));
    const vm = (world.read() as unknown as { engine: { vm: { files: Record<string, string> } } }).engine.vm;
    assert.match(vm.files['/proc/modules'] ?? '', /^ip_vs /m);
    assert.match(result.stderr, /Linux 6\.10\.14-linuxkit/);
  });

  test('macOS (no /proc, a Darwin kernel here): doctor and up work end to end against Docker Desktop', async (t) => {
    const world = makeWorld({ engineInfo: DOCKER_DESKTOP_INFO, engineVm: dockerDesktopVm() });
    const env = standInEnv(world, { hostRoot: '/nonexistent-macos-root' });
    // In-process, the real runner's children inherit this process's environment: they need the stand-ins' world.
    const saved = process.env.STANDIN_STATE;
    process.env.STANDIN_STATE = world.dir;
    t.after(() => (saved === undefined ? delete process.env.STANDIN_STATE : (process.env.STANDIN_STATE = saved)));
    const run = (argv: string[]) => captured(captureIo({ env, runner: new LazyExecaRunner(), platform: { os: 'darwin', release: '24.6.0' } }), (io) => runCommandLine(argv, io));
    const doctor = await run(['doctor', '--json', '--mode', 'ipvs']);
    const report = JSON.parse(doctor.stdout);
    assert.equal(report.kernel.judged, 'engine');
    assert.match(report.checks.find((c: { id: string }) => c.id === 'kernel.site').detail, /darwin/);
    assert.equal(doctor.code, 0, doctor.stdout);
    const up = await run(UP);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /assertions {2}PASS/);
  });
});

describe('2. IPv6: /proxyMode where kube-proxy binds it', () => {
  test('an IPv6-only cluster: /proxyMode is asked on [::1]:10249 and answers', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const result = await runCli([...UP, '--ip-family', 'ipv6', '--service-cidr', 'fd00:10:96::/112', '--cluster-cidr', 'fd00:10:244::/56'], env);
    assert.ok(argvs(world, 'docker').includes('exec kind-control-plane curl -fsS --max-time 5 http://[::1]:10249/proxyMode'), argvs(world, 'docker').join('\n'));
    assert.doesNotMatch(result.stderr, /did not answer/);
    assert.match(result.stderr, /kind-worker: \/proxyMode = ipvs/);
  });
});

describe('3. rootless engines', () => {
  test('doctor detects rootless Docker, gives the modules-load.d commands, and does not call ip_set "loaded on demand"', async () => {
    const world = makeWorld({ engineInfo: { SecurityOptions: ['name=seccomp,profile=builtin', 'name=rootless', 'name=cgroupns'] } });
    const env = standInEnv(world);
    const result = await runCli(['doctor', '--json'], env);
    const report = JSON.parse(result.stdout);
    const rootless = report.checks.find((c: { id: string }) => c.id === 'provider.engine-rootless');
    assert.ok(rootless !== undefined, result.stdout);
    assert.equal(rootless.status, 'warn');
    assert.match(rootless.fix, /sudo tee \/etc\/modules-load\.d\/kube-local-up-ipvs\.conf/);
    assert.match(rootless.fix, /ip_set/);
    assert.match(rootless.fix, /sudo systemctl restart systemd-modules-load\.service/);
    const ipSet = report.checks.find((c: { id: string }) => c.id === 'kernel.ip_set');
    assert.doesNotMatch(ipSet.detail, /loaded on demand/);
    assert.equal(ipSet.status, 'warn');
  });
});

describe('4. kind\'s version against the release the node images are pinned for', () => {
  test('an older kind on PATH: up stops before create, naming tools install kind and KIND_NODE_IMAGE', async () => {
    const world = makeWorld({ kindVersion: 'v0.31.0' });
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /FAIL provider\.kind-version: .*kind v0\.31\.0, but the node images are pinned for kind v0\.33\.0/);
    assert.match(result.stderr, /local-up tools install kind/);
    assert.match(result.stderr, /KIND_NODE_IMAGE/);
    assert.equal(argvs(world, 'kind').filter((a) => a.startsWith('create')).length, 0);
  });
});

describe('5. a cluster kube-local-up did not create', () => {
  test('up --reuse exports its kubeconfig to KUBECONFIG_OUT; down leaves the user\'s kubeconfig as kind would', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    // The user made it with kind itself: kind wrote ~/.kube/config.
    const userConfig = join(env.HOME as string, 'kind-ipvs.yaml');
    writeFileSync(userConfig, 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: ipvs\nnodes:\n- role: control-plane\n- role: worker\n');
    const made = spawnSync(join(STAND_INS, 'kind'), ['create', 'cluster', '--name', 'kind', '--config', userConfig], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const userKubeconfig = join(env.HOME as string, '.kube', 'config');
    assert.match(readFileSync(userKubeconfig, 'utf8'), /kind-kind/);
    const out = join(env.STATE_DIR as string, 'kind', 'kubeconfig');
    const reused = await runCli([...UP, '--reuse'], env);
    assert.equal(reused.code, 0, reused.stderr);
    assert.ok(argvs(world, 'kind').includes(`export kubeconfig --name kind --kubeconfig ${out}`), argvs(world, 'kind').join('\n'));
    assert.match(reused.stdout, new RegExp(`export KUBECONFIG=${out}`));
    const down = await runCli(['down', '--name', 'kind'], env);
    assert.equal(down.code, 0, down.stderr);
    // kind delete cluster without --kubeconfig: kind cleans the kubeconfig it wrote, as `kind delete cluster` would.
    assert.ok(argvs(world, 'kind').includes('delete cluster --name kind'), argvs(world, 'kind').join('\n'));
    assert.doesNotMatch(readFileSync(userKubeconfig, 'utf8'), /kind-kind/);
    assert.equal(existsSync(out), false);
  });
});

describe('6. --retain after a failed create', () => {
  test('the hint does not point at a kubeconfig kind never wrote, and says how to get one', async () => {
    const world = makeWorld({ create: 'fail' });
    const env = standInEnv(world);
    const result = await runCli([...UP, '--retain'], env);
    assert.equal(result.code, 3, result.stderr);
    assert.doesNotMatch(result.stderr, /inspect it with KUBECONFIG=/);
    assert.match(result.stderr, /kind writes the kubeconfig only after every create step succeeded/);
    assert.match(result.stderr, new RegExp(`kind export kubeconfig --name kind --kubeconfig ${join(env.STATE_DIR as string, 'kind', 'kubeconfig')}`));
  });
});

describe('7. kube-proxy never ready on one node', () => {
  test('the evidence is the failing node\'s pod log, not ds/kube-proxy', async () => {
    const world = makeWorld({ overrides: { 'kind-worker': { kubeProxyReady: false, kubeProxyLog: 'E0101 server.go:2] "Error running ProxyServer" err="can\'t use the IPVS proxier: ipvs not available on kind-worker"' } } });
    const env = standInEnv(world, { extra: { READY_TIMEOUT: '2' } });
    const result = await runCli(UP, env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /kubectl -n kube-system logs kube-proxy-1x11 --tail=40 \(node kind-worker, Running\):\n.*\[pod\/kube-proxy-1x11\/kube-proxy\] E0101 .*ipvs not available on kind-worker/);
    assert.match(result.stderr, /ipvs not available on kind-worker/);
    assert.doesNotMatch(result.stderr, /logs ds\/kube-proxy/);
  });
});

describe('8. HZ for persistence timeouts when the nodes cannot read a kernel config', () => {
  test('nodes without /proc/config.gz on a kernel they share with this machine: HZ from this machine\'s config', async () => {
    const world = makeWorld();
    const template = world.read() as unknown as { nodeTemplate: Record<string, unknown> };
    template.nodeTemplate.configGz = false;
    world.write(template as never);
    const env = standInEnv(world);
    const result = await runCli(UP, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /HZ 250 from this machine's kernel config \(\/boot\/config-6\.1\.0-56-amd64; the nodes share this kernel\)/);
  });

  test('no kernel config anywhere: up says loudly that persistence timeouts were not compared', async () => {
    const world = makeWorld();
    const template = world.read() as unknown as { nodeTemplate: Record<string, unknown> };
    template.nodeTemplate.configGz = false;
    world.write(template as never);
    const root = ipvsKernelRoot();
    rmSync(join(root, 'boot'), { recursive: true });
    const env = standInEnv(world, { hostRoot: root });
    const result = await runCli(UP, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /warning +HZ unknown on kind-control-plane, kind-worker: persistence timeouts \(session affinity\) were NOT compared/);
  });
});
