// The local provider's orchestration, in-process, against stand-ins (test doubles
// for kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
// and kubectl in test/stand-ins/local/) and the real etcd and openssl: start order,
// readiness waits, crashes with their log tail, stopping in reverse with
// kube-proxy --cleanup, the node's pods removed while the kubelet runs, the PID-reuse guard,
// foreground supervision.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { isLocalUpError } from '../src/errors.js';
import type { LocalDetails } from '../src/providers/local/details.js';
import type { LocalSession } from '../src/providers/local/session.js';
import { readLocalDetails } from '../src/providers/local/details.js';
import { localProvider, makeLocalProvider } from '../src/providers/local/local-provider.js';
import { defaultLocalDeps } from '../src/providers/local/session.js';
import { readIpvsadmSave } from '../src/ipvs/read.js';
import type { ProviderDetails } from '../src/providers/provider.js';
import type { ClusterState } from '../src/state/state-file.js';
import { initialState } from '../src/steps/cluster.js';
import { processesMentioning } from './helpers/lab.js';
import type { LocalWorld } from './stand-ins/local/harness.js';
import { ETCD, KUBECTL_STAND_IN, alive, contextFor, readEvents, trackedWorlds } from './stand-ins/local/harness.js';

const skip = ETCD === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : false;
const world = trackedWorlds();

interface Up {
  readonly ctx: ReturnType<typeof contextFor>;
  /** What preflight handed to create(), for the run's later calls. */
  readonly session: LocalSession;
  readonly recorded: ProviderDetails[];
  state(): ClusterState;
}

async function create(w: LocalWorld): Promise<Up> {
  const ctx = contextFor(w);
  const recorded: ProviderDetails[] = [];
  const { checks, session } = await localProvider.preflight(ctx);
  assert.deepEqual(checks.filter((c) => c.status === 'fail'), []);
  const state = () => initialState(ctx.settings, recorded[recorded.length - 1] ?? {});
  const up: Up = { ctx, session, recorded, state };
  try {
    const details = await localProvider.create(ctx, session, async (d) => void recorded.push(d));
    recorded.push(details);
  } catch (error) {
    (error as { up?: Up }).up = up;
    throw error;
  }
  return up;
}

const details = (up: Up): LocalDetails => readLocalDetails(up.state().details, 'test');
const startOrder = (w: LocalWorld) => readEvents(w).filter((e) => e.event === 'start' && e.argv?.includes('--cleanup') !== true).map((e) => e.name);

describe('local provider with stand-ins (in-process)', { skip }, () => {
  it('starts in order, each after the previous is ready; stops in reverse with kube-proxy --cleanup; leaves nothing', async () => {
    const w = await world();
    const up = await create(w);
    const d = details(up);
    assert.deepEqual(d.components.map((c) => c.name), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy']);
    assert.deepEqual(up.recorded.map((r) => (r.components as unknown[]).length), [0, 1, 2, 3, 4, 5, 6, 6], 'the state is recorded after each start');
    assert.deepEqual(startOrder(w), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy']);

    // Readiness, from the stand-ins' own records: each started only after the previous answered.
    const events = readEvents(w);
    const at = (event: string, name: string) => events.find((e) => e.event === event && e.name === name)?.time ?? Number.NaN;
    assert.ok(at('etcd-reachable', 'kube-apiserver') <= at('listening', 'kube-apiserver'));
    assert.ok(at('listening', 'kube-apiserver') < at('start', 'kube-controller-manager'));
    assert.ok(at('listening', 'kube-controller-manager') < at('start', 'kube-scheduler'));
    assert.ok(at('listening', 'kube-scheduler') < at('start', 'kubelet'));
    assert.ok(at('node-registered', 'kube-apiserver') < at('start', 'kube-proxy'), 'kube-proxy waits for the node');
    const applied = events.filter((e) => e.event === 'applied').map((e) => ({ time: e.time, objects: e.objects ?? [] }));
    assert.deepEqual(applied[0]?.objects, ['ClusterRoleBinding/kube-apiserver-kubelet-admin']);
    assert.ok((applied[1]?.objects ?? []).includes('Service/kube-dns'));
    assert.ok((applied[1]?.time ?? 0) > at('listening', 'kube-proxy'), 'CoreDNS after kube-proxy is healthy');
    // `up` proves the mode once, for every provider (src/steps/up.ts); the provider does not ask too.
    assert.deepEqual(events.filter((e) => e.event === 'proxy-mode-read'), []);

    // Files: the bridge conflist over CLUSTER_CIDR, the user's kubeconfig 0600 with everything embedded.
    const conflist = JSON.parse(readFileSync(join(w.env.CNI_CONFIG_DIR ?? '', '10-kube-local-up.conflist'), 'utf8')) as { plugins: { ipam?: { ranges: { subnet: string }[][] } }[] };
    assert.equal(conflist.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, '10.244.0.0/16');
    const kubeconfig = up.ctx.settings.kubeconfigOut;
    assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
    const user = (YAML.parse(readFileSync(kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[] }).users[0]?.user ?? {};
    assert.deepEqual(Object.keys(user).sort(), ['client-certificate-data', 'client-key-data']);

    await localProvider.waitReady(up.ctx, up.state(), up.session);
    assert.ok(up.ctx.progressLines.some((l) => l.startsWith('Local Kubernetes cluster "standin" is running')));
    assert.ok(up.ctx.progressLines.includes(`  ${d.layout.logDir}/kube-proxy.log`), 'the closing message lists every log');
    assert.ok(up.ctx.progressLines.includes(`  ${d.kubeProxy.configFile}`), 'and every config file');
    assert.deepEqual(await localProvider.configuredMode(up.ctx, up.state()), { mode: 'iptables', source: d.kubeProxy.configFile });
    assert.equal(await localProvider.exists(up.ctx), true);

    // A pod of the user's (or a smoke namespace still terminating) on the node: the kubelet must
    // stop it before it stops itself, else its containers outlive the cluster in containerd.
    const userPod = join(w.root, 'user-pod.yaml');
    writeFileSync(userPod, YAML.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: d.nodeName }, status: { phase: 'Running' } }));
    execFileSync(KUBECTL_STAND_IN, ['--kubeconfig', d.layout.adminKubeconfig, 'apply', '-f', userPod]);
    const before = readEvents(w).length;
    assert.equal(await localProvider.destroy(up.ctx, up.state(), up.session), 'deleted');
    const stopping = readEvents(w).slice(before).filter((e) => e.event === 'stop' || e.event === 'cleanup' || e.event === 'deleted');
    assert.deepEqual(stopping.map((e) => `${e.event} ${e.event === 'deleted' ? (e.object ?? '') : e.name}`), [
      'stop kube-scheduler',
      'deleted Deployment/coredns',
      'deleted Pod/web',
      'stop kube-proxy',
      'cleanup kube-proxy',
      'stop kubelet',
      'stop kube-controller-manager',
      'stop kube-apiserver',
    ]);
    assert.equal(stopping.find((e) => e.event === 'cleanup')?.config, d.kubeProxy.configFile, 'kube-proxy --cleanup gets the same config');
    for (const c of d.components) assert.ok(!alive(c.pid), `${c.name} still runs`);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(d.layout.etcdDir), "etcd's data is removed");
    assert.equal(await localProvider.exists(up.ctx), false);
  });

  it('a component that crashes during start-up is reported at once with its log tail; destroy stops the rest', async () => {
    const w = await world({ LOCAL_STANDIN_CRASH: 'kube-scheduler:0' });
    const error = await create(w).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.ok(isLocalUpError(error));
    assert.equal(error.exitCode, 1);
    assert.equal(error.message, 'kube-scheduler exited with code 1 while kube-local-up waited for kube-scheduler to become ready');
    assert.match(error.details ?? '', /last lines of .*kube-scheduler\.log:\n[^]*E kube-scheduler stand-in: fatal error injected by LOCAL_STANDIN_CRASH/);
    assert.match(error.hint ?? '', /the whole log: .*kube-scheduler\.log/);
    const up = (error as { up?: Up }).up;
    assert.ok(up !== undefined);
    assert.deepEqual(startOrder(w), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], 'nothing after the crash was started');
    // What `up` does after a failure: destroy() with what was recorded.
    assert.equal(await localProvider.destroy(up.ctx, up.state()), 'deleted');
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(up.ctx.progressLines.includes(`kube-scheduler (pid ${details(up).components[3]?.pid}) is not running`));
  });

  it('a component that never becomes ready fails after READY_TIMEOUT with the last answer and its log tail', async () => {
    const w = await world({ LOCAL_STANDIN_NOT_READY: 'kube-controller-manager', READY_TIMEOUT: '2' });
    const error = await create(w).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.ok(isLocalUpError(error));
    assert.match(error.message, /^kube-controller-manager did not become ready within 2s \(READY_TIMEOUT\): https:\/\/127\.0\.0\.1:\d+\/healthz answered: HTTP 500: not ready$/);
    assert.match(error.details ?? '', /kube-controller-manager stand-in starting with/);
    const up = (error as { up?: Up }).up;
    assert.ok(up !== undefined);
    await localProvider.destroy(up.ctx, up.state());
    assert.deepEqual(processesMentioning(w.root), []);
  });

  it('foreground: a component that dies later is reported with its log tail and everything is stopped', async () => {
    const w = await world();
    const up = await create(w);
    const d = details(up);
    const kubelet = d.components.find((c) => c.name === 'kubelet');
    assert.ok(kubelet);
    setTimeout(() => process.kill(kubelet.pid, 'SIGKILL'), 300);
    await assert.rejects(localProvider.supervise(up.ctx, up.state(), new AbortController().signal), (error: unknown) => {
      assert.ok(isLocalUpError(error));
      assert.equal(error.message, `kubelet (pid ${kubelet.pid}) terminated unexpectedly; the cluster was stopped`);
      assert.match(error.details ?? '', /node 127\.0\.0\.1 registered/);
      return true;
    });
    assert.ok(readEvents(w).some((e) => e.event === 'cleanup'), 'kube-proxy --cleanup ran');
    assert.deepEqual(processesMentioning(w.root), []);
  });

  it('foreground: Ctrl-C stops everything in reverse order and runs kube-proxy --cleanup', async () => {
    const w = await world({ KUBE_ENABLE_CLUSTER_DNS: 'false' });
    const up = await create(w);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    assert.equal(await localProvider.supervise(up.ctx, up.state(), abort.signal), 'interrupted');
    const order = readEvents(w).filter((e) => e.event === 'stop' || e.event === 'cleanup').map((e) => `${e.event} ${e.name}`);
    assert.deepEqual(order, ['stop kube-scheduler', 'stop kube-proxy', 'cleanup kube-proxy', 'stop kubelet', 'stop kube-controller-manager', 'stop kube-apiserver']);
    assert.deepEqual(processesMentioning(w.root), []);
  });

  it('down never signals a recorded pid whose process is not ours any more (PID-reuse guard)', async () => {
    const w = await world({ KUBE_ENABLE_CLUSTER_DNS: 'false' });
    const up = await create(w);
    const d = details(up);
    const scheduler = d.components.find((c) => c.name === 'kube-scheduler');
    assert.ok(scheduler);
    // The record says another start time: as if the scheduler had died and its pid been reused.
    const forged: LocalDetails = { ...d, components: d.components.map((c) => (c.name === 'kube-scheduler' ? { ...c, startTicks: (c.startTicks ?? 0) + 12345 } : c)) };
    const state = initialState(up.ctx.settings, forged as unknown as ProviderDetails);
    await localProvider.destroy(up.ctx, state);
    assert.ok(alive(scheduler.pid), 'the process the record no longer matches was left alone');
    assert.ok(up.ctx.progressLines.some((l) => l.includes(`pid ${scheduler.pid} now belongs to another process`)));
    for (const c of d.components.filter((x) => x.name !== 'kube-scheduler')) assert.ok(!alive(c.pid), `${c.name} still runs`);
    process.kill(scheduler.pid, 'SIGTERM');
  });

  it('down also stops components the state file missed (a run killed between starting one and recording it)', async () => {
    const w = await world({ KUBE_ENABLE_CLUSTER_DNS: 'false' });
    const up = await create(w);
    const d = details(up);
    const partial: LocalDetails = { ...d, components: d.components.filter((c) => c.name !== 'kube-scheduler' && c.name !== 'kube-proxy') };
    assert.equal(await localProvider.destroy(up.ctx, initialState(up.ctx.settings, partial as unknown as ProviderDetails)), 'deleted');
    for (const c of d.components) assert.ok(!alive(c.pid), `${c.name} still runs`);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(readEvents(w).some((e) => e.event === 'cleanup' && e.config === d.kubeProxy.configFile), 'kube-proxy --cleanup ran for the unrecorded kube-proxy');
  });

  it('down without a state file finds the cluster by its folders; collectLogs copies logs, configs and the host state', async () => {
    const w = await world({ KUBE_ENABLE_CLUSTER_DNS: 'false' });
    const up = await create(w);
    const dir = join(w.root, 'collected');
    const written = await localProvider.collectLogs(up.ctx, up.state(), dir);
    assert.ok(written.includes(join(dir, 'local', 'kube-proxy.log')));
    assert.ok(written.includes(join(dir, 'local', 'kube-proxy.yaml')));
    assert.match(readFileSync(join(dir, 'local', 'host-network-state.txt'), 'utf8'), /# ipset list -n/);
    const fresh = contextFor(w);
    assert.equal(await localProvider.destroy(fresh, null), 'deleted');
    assert.deepEqual(processesMentioning(w.root), []);
    assert.equal(await localProvider.destroy(fresh, null), 'absent');
  });
});

describe('local provider in ipvs mode (stand-ins; the IPVS table is given, this machine has none)', { skip }, () => {
  it('waits until the kubernetes and kube-dns virtual servers are programmed, and fails naming what is missing', async () => {
    const w = await world({ KUBE_PROXY_MODE: 'ipvs', READY_TIMEOUT: '3' });
    const port = w.ports.API_SECURE_PORT;
    const full = readIpvsadmSave(
      [`-A -t 10.96.0.1:443 -s rr`, `-a -t 10.96.0.1:443 -r 192.168.50.10:${port} -m -w 1`, '-A -u 10.96.0.10:53 -s rr', '-a -u 10.96.0.10:53 -r 10.244.0.4:53 -m -w 1', '-A -t 10.96.0.10:53 -s rr', '-a -t 10.96.0.10:53 -r 10.244.0.4:53 -m -w 1', '-A -t 10.96.0.10:9153 -s rr', '-a -t 10.96.0.10:9153 -r 10.244.0.4:9153 -m -w 1', ''].join('\n'),
    );
    let reads = 0;
    // The table fills in after a few reads, as kube-proxy's first syncs do.
    const provider = makeLocalProvider({ ...defaultLocalDeps, readIpvsTable: async () => (++reads < 3 ? { ...full, services: full.services.slice(0, 1) } : full) });
    const up = await create(w);
    await provider.waitReady(up.ctx, up.state(), up.session);
    assert.ok(reads >= 3);
    assert.ok(up.ctx.progressLines.includes('IPVS: TCP/10.96.0.1:443, UDP/10.96.0.10:53, TCP/10.96.0.10:53, TCP/10.96.0.10:9153 programmed'));

    const partial = makeLocalProvider({ ...defaultLocalDeps, readIpvsTable: async () => ({ ...full, services: full.services.filter((vs) => vs.port !== 9153) }) });
    await assert.rejects(partial.waitReady(up.ctx, up.state(), up.session), (error: unknown) => {
      assert.ok(isLocalUpError(error));
      assert.match(error.message, /IPVS table lacks what kube-proxy must program within 3s/);
      assert.match(error.details ?? '', /^TCP\/10\.96\.0\.10:9153 \(kube-system\/kube-dns:metrics\) is not in the IPVS table$/m);
      assert.match(error.details ?? '', /Using ipvs Proxier/);
      return true;
    });
    await localProvider.destroy(up.ctx, up.state());
    assert.deepEqual(processesMentioning(w.root), []);
  });
});

describe('up --dry-run for the local provider', () => {
  it('lists every component\'s full command line in start order, then CoreDNS and the stop sequence', async () => {
    const w = await world();
    const lines = localProvider.describeCreate(contextFor(w));
    const numbered = lines.filter((l) => /^\d+\. /.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    assert.deepEqual(numbered, ['1. etcd', '2. kube-apiserver', '3. kube-controller-manager', '4. kube-scheduler', '5. kubelet', '6. kube-proxy', '7. CoreDNS']);
    const apiserver = lines.find((l) => l.startsWith('2. kube-apiserver: '));
    assert.match(apiserver ?? '', new RegExp(`^2\\. kube-apiserver: ${w.env.KUBE_BIN_DIR}/kube-apiserver --v=3 --authorization-mode=Node,RBAC .*--secure-port=${w.ports.API_SECURE_PORT} `));
    assert.ok(lines.some((l) => l.trim() === 'mode: iptables'), 'the kube-proxy config is shown');
    assert.match(lines[lines.length - 1] ?? '', /--cleanup, then a check that no IPVS\/ipset\/iptables\/kube-ipvs0 state is left$/);
  });
});
