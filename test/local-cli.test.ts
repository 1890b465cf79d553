// `local-up up --provider local` as a real process, against stand-ins (test
// doubles, see test/stand-ins/local/) and the real etcd and openssl: Ctrl-C
// (SIGINT) during up, a component crashing during up, and up followed by down.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLocalDetails } from '../src/providers/local/details.js';
import type { ClusterState } from '../src/state/state-file.js';
import { runBin, startBin } from './helpers/cli.js';
import { processesMentioning } from './helpers/lab.js';
import type { LocalWorld } from './stand-ins/local/harness.js';
import { ETCD, alive, readEvents, trackedWorlds } from './stand-ins/local/harness.js';

const root = process.getuid?.() === 0;
const skip = ETCD === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : !root ? 'up runs the kubelet and kube-proxy as root (sudo -n otherwise); run the tests as root' : false;
const world = trackedWorlds();

const stateFile = (w: LocalWorld) => join(w.env.STATE_DIR ?? '', 'standin', 'state.json');
const stopSequence = (w: LocalWorld) => readEvents(w).filter((e) => e.event === 'stop' || e.event === 'cleanup').map((e) => `${e.event} ${e.name}`);
/** The scheduler first (no pod is bound while the node's pods go), then reverse start order. */
const REVERSE = ['stop kube-scheduler', 'stop kube-proxy', 'cleanup kube-proxy', 'stop kubelet', 'stop kube-controller-manager', 'stop kube-apiserver'];

describe('local-up up --provider local (real process, stand-ins)', { skip }, () => {
  it('Ctrl-C during up: exit 130, everything stopped in reverse order, kube-proxy --cleanup run, no process left', async () => {
    const w = await world({ LOCAL_STANDIN_DNS_NEVER_READY: '1' });
    const running = startBin(['up'], { env: w.env, timeoutMs: 120_000 });
    // Interrupt while up waits for CoreDNS: every component runs by then.
    const deadline = Date.now() + 60_000;
    while (!readEvents(w).some((e) => e.event === 'applied' && (e.objects ?? []).includes('Service/kube-dns'))) {
      assert.ok(Date.now() < deadline, `up never got to CoreDNS:\n${running.output().stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const state = JSON.parse(readFileSync(stateFile(w), 'utf8')) as ClusterState;
    const details = readLocalDetails(state.details, 'state.json');
    assert.equal(details.components.length, 6);
    running.child.kill('SIGINT');
    const { code, stderr } = await running.result;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted/);
    assert.deepEqual(stopSequence(w), REVERSE);
    for (const c of details.components) assert.ok(!alive(c.pid), `${c.name} (pid ${c.pid}) still runs`);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(details.layout.etcdDir), "etcd's data is removed");
    assert.ok(!existsSync(stateFile(w)), 'the state file is removed');
  });

  it('a component crashing during up: exit 1 with its log tail, everything else stopped', async () => {
    const w = await world({ LOCAL_STANDIN_CRASH: 'kubelet:0' });
    const result = await runBin(['up'], { env: w.env, timeoutMs: 90_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: kubelet exited with code 1 while kube-local-up waited for kubelet to become ready/);
    assert.match(result.stderr, / {2}\| .*E kubelet stand-in: fatal error injected by LOCAL_STANDIN_CRASH/);
    assert.deepEqual(stopSequence(w), ['stop kube-scheduler', 'stop kube-controller-manager', 'stop kube-apiserver']);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(stateFile(w)));
  });

  it('up --detach returns with the cluster running; down stops it later', async () => {
    const w = await world();
    const up = await runBin(['up', '--detach'], { env: w.env, timeoutMs: 90_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Cluster "standin" is up: local/);
    assert.match(up.stderr, /127\.0\.0\.1: \/proxyMode = iptables/);
    assert.equal(readEvents(w).filter((e) => e.event === 'proxy-mode-read').length, 1, '/proxyMode is proven once');
    assert.doesNotMatch(up.stderr, /runs in the foreground/);
    const state = JSON.parse(readFileSync(stateFile(w), 'utf8')) as ClusterState;
    const details = readLocalDetails(state.details, 'state.json');
    for (const c of details.components) assert.ok(alive(c.pid), `${c.name} should outlive up`);
    assert.ok(details.components.every((c) => c.startTicks !== null && c.pgid === c.pid), 'pids, groups and start times are recorded');

    const down = await runBin(['down'], { env: w.env, timeoutMs: 90_000 });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /deleted the local cluster "standin"/);
    assert.deepEqual(stopSequence(w), REVERSE);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(stateFile(w)));
    assert.ok(!existsSync(details.layout.etcdDir));
  });

  /** Starts `up` in the foreground and resolves once the cluster is up and supervised. */
  async function foregroundUp(w: LocalWorld) {
    const { child, output, result } = startBin(['up'], { env: w.env, timeoutMs: 300_000 });
    const exited = result.then((r) => r.code);
    const deadline = Date.now() + 90_000;
    while (!/runs in the foreground/.test(output().stderr)) {
      assert.ok(Date.now() < deadline, `up never reached the foreground:\n${output().stderr}`);
      assert.equal(child.exitCode, null, `up exited early:\n${output().stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const details = readLocalDetails((JSON.parse(readFileSync(stateFile(w), 'utf8')) as ClusterState).details, 'state.json');
    return { child, exited, details, output };
  }

  it('up in the foreground (like local-up-cluster.sh): Ctrl-C after start-up stops everything in reverse order, exit 130', async () => {
    const w = await world();
    const run = await foregroundUp(w);
    assert.match(run.output().stdout, /Cluster "standin" is up: local/);
    for (const c of run.details.components) assert.ok(alive(c.pid), `${c.name} runs while up supervises`);
    run.child.kill('SIGINT');
    const code = await run.exited;
    assert.equal(code, 130, run.output().stderr);
    assert.deepEqual(stopSequence(w), REVERSE);
    for (const c of run.details.components) assert.ok(!alive(c.pid), `${c.name} (pid ${c.pid}) still runs`);
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(stateFile(w)));
  });

  it('up in the foreground: a component dying later is reported at once with its log tail, and everything is stopped', async () => {
    const w = await world();
    const run = await foregroundUp(w);
    const scheduler = run.details.components.find((c) => c.name === 'kube-scheduler');
    assert.ok(scheduler !== undefined);
    process.kill(scheduler.pid, 'SIGKILL');
    const code = await run.exited;
    const { stderr } = run.output();
    assert.equal(code, 1, stderr);
    assert.match(stderr, /kube-scheduler/);
    assert.match(stderr, new RegExp(scheduler.logFile.replaceAll('/', '\\/').replaceAll('.', '\\.')));
    assert.deepEqual(processesMentioning(w.root), []);
    assert.ok(!existsSync(stateFile(w)));
  });
});
