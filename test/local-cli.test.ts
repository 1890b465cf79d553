// `local-up up --provider local` as a real process, against stand-ins (test
// doubles, see test/stand-ins/local/) and the real etcd and openssl: Ctrl-C
// (SIGINT) during up, a component crashing during up, and up followed by down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readLocalDetails } from '../src/providers/local/details.js';
import { probePortFree } from '../src/providers/local/preflight.js';
import type { ClusterState } from '../src/state/state-file.js';
import { BIN, runBin } from './helpers/cli.js';
import { processesMentioning } from './helpers/lab.js';
import type { LocalWorld } from './stand-ins/local/harness.js';
import { ETCD, alive, makeWorld, readEvents } from './stand-ins/local/harness.js';

const root = process.getuid?.() === 0;
const skip = ETCD === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : !root ? 'up runs the kubelet and kube-proxy as root (sudo -n otherwise); run the tests as root' : false;
const worlds: LocalWorld[] = [];
after(async () => {
  for (const world of worlds) {
    for (const pid of processesMentioning(world.root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await world.close();
  }
});

async function world(extra: Record<string, string> = {}): Promise<LocalWorld> {
  const w = await makeWorld(extra);
  worlds.push(w);
  return w;
}

const stateFile = (w: LocalWorld) => join(w.env.STATE_DIR ?? '', 'standin', 'state.json');
const stopSequence = (w: LocalWorld) => readEvents(w).filter((e) => e.event === 'stop' || e.event === 'cleanup').map((e) => `${e.event} ${e.name}`);
const REVERSE = ['stop kube-proxy', 'cleanup kube-proxy', 'stop kubelet', 'stop kube-scheduler', 'stop kube-controller-manager', 'stop kube-apiserver'];

describe('local-up up --provider local (real process, stand-ins)', { skip }, () => {
  it('Ctrl-C during up: exit 130, everything stopped in reverse order, kube-proxy --cleanup run, no process left', async () => {
    const w = await world({ LOCAL_STANDIN_DNS_NEVER_READY: '1' });
    const child = spawn(process.execPath, [BIN, 'up'], { env: w.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    // Interrupt while up waits for CoreDNS: every component runs by then.
    const deadline = Date.now() + 60_000;
    while (!readEvents(w).some((e) => e.event === 'applied' && (e.objects ?? []).includes('Service/kube-dns'))) {
      assert.ok(Date.now() < deadline, `up never got to CoreDNS:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const state = JSON.parse(readFileSync(stateFile(w), 'utf8')) as ClusterState;
    const details = readLocalDetails(state.details, 'state.json');
    assert.equal(details.components.length, 6);
    child.kill('SIGINT');
    const [code] = await exited;
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

  it('up returns with the cluster running (detached from the CLI); down stops it later', async (t) => {
    // `up` proves the mode by reading /proxyMode on kube-proxy's default port 10249 (src/steps/cluster.ts).
    if ((await probePortFree('127.0.0.1', 10249)) !== null) {
      t.skip('port 10249 is in use here, and up reads /proxyMode on it');
      return;
    }
    const w = await world({ KUBE_PROXY_METRICS_PORT: '10249' });
    const up = await runBin(['up'], { env: w.env, timeoutMs: 90_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Cluster "standin" is up: local/);
    assert.match(up.stderr, /127\.0\.0\.1: \/proxyMode = iptables/);
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
});
