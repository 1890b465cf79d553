// `local-up compare-modes` against the local provider's stand-ins (test doubles, see
// test/stand-ins/local/) and the real etcd: what it refuses (exit 2, nothing changed),
// the provider's switch of kube-proxy (stop, --cleanup, mode in its configuration, the
// same command line started again, the state file following), --dry-run's plan on a
// cluster in IPVS mode, and `down` after a switch. The smoke runs themselves need a real
// cluster: the lab e2e runs compare-modes end to end (hack/lab-local/guest.sh, E2E_COMPARE=true).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Runner } from '../src/exec/runner.js';
import { readLocalDetails } from '../src/providers/local/details.js';
import { localProvider } from '../src/providers/local/local-provider.js';
import type { ClusterState } from '../src/state/state-file.js';
import { readClusterState, writeClusterState } from '../src/state/state-file.js';
import { runBin } from './helpers/cli.js';
import { processesMentioning } from './helpers/lab.js';
import type { LocalWorld } from './stand-ins/local/harness.js';
import { ETCD, alive, contextFor, readEvents, trackedWorlds } from './stand-ins/local/harness.js';

const root = process.getuid?.() === 0;
const skip = ETCD === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : !root ? 'up runs the kubelet and kube-proxy as root (sudo -n otherwise); run the tests as root' : false;
const world = trackedWorlds();
const CLI_TIMEOUT_MS = 90_000;

const stateOf = async (w: LocalWorld): Promise<ClusterState> => {
  const state = await readClusterState(w.env.STATE_DIR ?? '', 'standin');
  assert.ok(state !== null, 'the state file exists');
  return state;
};
const kubeProxyOf = (state: ClusterState) => {
  const record = readLocalDetails(state.details, 'state.json').components.find((c) => c.name === 'kube-proxy');
  assert.ok(record !== undefined);
  return record;
};
/** kube-proxy's start, stop and cleanup events after the first `from` events (the `--cleanup` process's own start left out). */
const proxyEvents = (w: LocalWorld, from: number) =>
  readEvents(w).slice(from).filter((e) => e.name === 'kube-proxy' && ['start', 'stop', 'cleanup'].includes(e.event) && !(e.event === 'start' && (e.argv ?? []).includes('--cleanup')));

/** The real runner, except ipset: this machine's ipsets are not the test's to read or destroy. */
function withoutHostIpsets(real: Runner, calls: string[]): Runner {
  return {
    run: async (file, args, options) => {
      if (file !== 'ipset') return real.run(file, args, options);
      calls.push(`ipset ${args.join(' ')}`);
      return { command: `ipset ${args.join(' ')}`, exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, notFound: false, durationMs: 0 };
    },
  };
}

describe('local-up compare-modes (real process, local provider stand-ins)', { skip }, () => {
  it('refuses, changing nothing: no cluster, a --from or --to it cannot compare, kube-proxy not in IPVS mode', async () => {
    const w = await world();
    const none = await runBin(['compare-modes'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /no record of a cluster named "standin" .*compare-modes switches kube-proxy, so it works only on a cluster `local-up up` made/);

    const up = await runBin(['up', '--detach'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(up.code, 0, up.stderr);
    const before = kubeProxyOf(await stateOf(w));
    const config = readFileSync(readLocalDetails((await stateOf(w)).details, 'state.json').kubeProxy.configFile, 'utf8');
    const seen = readEvents(w).length;

    const refusals: [string[], RegExp][] = [
      [['compare-modes'], /kube-proxy on node \S+ runs in iptables mode \(its \/proxyMode\): compare-modes compares leaving IPVS, so it starts from ipvs/],
      [['compare-modes', '--from', 'ipvs', '--dry-run'], /--from ipvs: kube-proxy on node \S+ runs in iptables mode \(its \/proxyMode\), not ipvs/],
      [['compare-modes', '--from', 'iptables'], /--from "iptables": compare-modes compares leaving IPVS, so the first mode is ipvs/],
      [['compare-modes', '--to', 'ipvs'], /--to "ipvs" is not a mode kube-proxy can move to from IPVS/],
    ];
    for (const [argv, message] of refusals) {
      const r = await runBin(argv, { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(proxyEvents(w, seen), [], 'kube-proxy was neither stopped, cleaned up nor started');
    assert.ok(alive(before.pid));
    assert.equal(kubeProxyOf(await stateOf(w)).pid, before.pid);
    assert.equal(readFileSync(readLocalDetails((await stateOf(w)).details, 'state.json').kubeProxy.configFile, 'utf8'), config);
    const down = await runBin(['down'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(down.code, 0, down.stderr);
  });

  it('the switch: kube-proxy stopped, --cleanup with the old configuration, only mode changed, the same command line started, the state file following; --dry-run then plans from IPVS; down stops the new kube-proxy', async () => {
    const w = await world();
    const up = await runBin(['up', '--detach'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(up.code, 0, up.stderr);
    const state = await stateOf(w);
    const old = kubeProxyOf(state);
    const details = readLocalDetails(state.details, 'state.json');
    const configBefore = readFileSync(details.kubeProxy.configFile, 'utf8');
    const seen = readEvents(w).length;

    // The stand-in kube-proxy serves any mode: switching the stand-in cluster to ipvs makes it play one compare-modes accepts.
    const ctx = contextFor(w);
    const ipsetCalls: string[] = [];
    const recorded: ClusterState[] = [];
    const switched = await localProvider.switchProxyMode({ ...ctx, runner: withoutHostIpsets(ctx.runner, ipsetCalls) }, state, 'ipvs', async (next) => {
      recorded.push(next);
      await writeClusterState(w.env.STATE_DIR ?? '', next);
    });
    await writeClusterState(w.env.STATE_DIR ?? '', switched.state);

    const events = proxyEvents(w, seen);
    assert.deepEqual(events.map((e) => e.event), ['stop', 'cleanup', 'start']);
    assert.equal(events[1]?.mode, 'iptables', '--cleanup ran with the configuration kube-proxy had run with');
    assert.deepEqual(events[2]?.argv, old.argv.slice(1), 'the same command line');
    assert.deepEqual(ipsetCalls, ['ipset list -n']);
    assert.equal(readFileSync(details.kubeProxy.configFile, 'utf8'), configBefore.replace(/^mode: iptables$/m, 'mode: ipvs'));
    assert.notEqual(configBefore, readFileSync(details.kubeProxy.configFile, 'utf8'));

    const now = kubeProxyOf(switched.state);
    assert.notEqual(now.pid, old.pid);
    assert.ok(alive(now.pid) && !alive(old.pid));
    assert.equal(switched.state.proxyMode, 'ipvs');
    assert.equal(readLocalDetails(switched.state.details, 'state.json').kubeProxy.mode, 'ipvs');
    // First without kube-proxy (a crash from there leaves a true record), then with the new one.
    assert.deepEqual(recorded.map((s) => readLocalDetails(s.details, 'state.json').components.filter((c) => c.name === 'kube-proxy').map((c) => c.pid)), [[], [now.pid]]);
    assert.match(switched.lines.join('\n'), /kube-proxy \(pid \d+\) stopped[\s\S]*--cleanup: done[\s\S]*no state of the old mode was left on this host[\s\S]*mode ipvs[\s\S]*is ready/);

    const metricsPort = w.ports.KUBE_PROXY_METRICS_PORT ?? 0;
    const proxyMode = await (await fetch(`http://127.0.0.1:${metricsPort}/proxyMode`)).text();
    assert.equal(proxyMode, 'ipvs');

    const beforeDryRun = readEvents(w).length;
    const dry = await runBin(['compare-modes', '--dry-run'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^compare-modes on cluster standin: ipvs -> nftables, in 4 steps \(nothing was changed: --dry-run\)$/m);
    assert.match(dry.stdout, /^2\. switch kube-proxy from ipvs to nftables$/m);
    assert.match(dry.stdout, new RegExp(`^ {3}- stop kube-proxy \\(pid ${now.pid},`, 'm'));
    assert.match(dry.stdout, /^ {3}- set mode: nftables in \S+kube-proxy\.yaml \(nothing else in it changes\)$/m);
    assert.match(dry.stdout, /^4\. assert --mode nftables: no IPVS leftovers on any node$/m);
    assert.deepEqual(proxyEvents(w, beforeDryRun), [], '--dry-run touched nothing');
    assert.equal(readFileSync(details.kubeProxy.configFile, 'utf8'), configBefore.replace(/^mode: iptables$/m, 'mode: ipvs'));

    const down = await runBin(['down'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(down.code, 0, down.stderr);
    assert.ok(!alive(now.pid));
    assert.deepEqual(processesMentioning(w.root), []);
  });

  it('refuses a kind cluster: it cannot switch kube-proxy there', async () => {
    const w = await world();
    const dir = join(w.env.STATE_DIR ?? '', 'standin');
    mkdirSync(dir, { recursive: true });
    const state: ClusterState = { version: 1, provider: 'kind', clusterName: 'standin', createdAt: new Date().toISOString(), kubeconfig: join(dir, 'kubeconfig'), proxyMode: 'ipvs', kubeVersion: '1.34.11', logDir: join(w.root, 'logs'), details: {} };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    const r = await runBin(['compare-modes'], { env: w.env, timeoutMs: CLI_TIMEOUT_MS });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cluster "standin" was made by the kind provider: compare-modes switches kube-proxy only on clusters of the local provider/);
  });
});
