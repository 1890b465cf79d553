// The local provider's host-side cleanup on the real kernel (one lab VM boot):
// kube-proxy's IPVS-mode state is created with the real tools (ipvsadm, ip, ipset,
// iptables), then kube-local-up's own cleanup path runs: `kube-proxy --cleanup`
// through runKubeProxyCleanup (a stand-in kube-proxy whose --cleanup removes what the
// real one removes) and the host check readHostNetworkState + findLeftovers.
// First with a cleanup that leaves ipsets and kube-ipvs0 behind (the check must name
// exactly those), then the full cleanup (the check must find nothing of kube-proxy's).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LeftoverReport } from '../src/providers/local/host-state.js';
import type { CleanupRun } from '../src/providers/local/teardown.js';
import { runScriptInLab } from '../src/lab/index.js';
import { ROOT } from './helpers/cli.js';
import { labAvailability, labDeps } from './helpers/lab.js';

const lab = await labAvailability();
const FIXTURES = join(ROOT, 'test', 'fixtures', 'local', 'lab');
const STAND_IN = join(ROOT, 'test', 'stand-ins', 'local', 'kube-proxy');
const DRIVER = `node ${FIXTURES}/cleanup-and-verify.mjs ${ROOT} ${STAND_IN}`;

const GUEST_SCRIPT = `
set -e
bash ${FIXTURES}/kube-proxy-state.sh
echo "@@section partial"
LOCAL_STANDIN_CLEANUP_HOST=1 LOCAL_STANDIN_CLEANUP_SKIP=ipsets,dummy ${DRIVER}
echo "@@section full"
LOCAL_STANDIN_CLEANUP_HOST=1 ${DRIVER}
echo "@@section ipvsadm"
ipvsadm -Ln
echo "@@section ipset"
ipset list -n
echo "@@section link"
ip -o link show type dummy
`;

interface DriverOutput {
  readonly before: LeftoverReport;
  readonly cleanup: CleanupRun;
  readonly after: LeftoverReport;
  readonly afterText: string;
}

function sections(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const chunk of stdout.split('@@section ').slice(1)) {
    const name = chunk.slice(0, chunk.indexOf('\n'));
    found.set(name, chunk.slice(name.length + 1));
  }
  return found;
}

const proxyNames = (report: LeftoverReport, kind?: string) => report.leftovers.filter((l) => l.owner === 'kube-proxy' && (kind === undefined || l.kind === kind)).map((l) => l.name);

describe('kube-proxy --cleanup and the host check on the real kernel (lab)', { skip: lab.skip ?? false }, () => {
  it('names exactly what a partial cleanup left, and finds nothing after the full one', async () => {
    if (lab.skip !== undefined) return;
    const run = await runScriptInLab({ ...lab.machine, kernel: lab.kernel, cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, capture: true, script: GUEST_SCRIPT }, labDeps());
    assert.equal(run.exitCode, 0, `guest script failed:\n${run.stderr ?? ''}\n${run.consoleTail}`);
    const out = sections(run.stdout ?? '');
    const partial = JSON.parse((out.get('partial') ?? '').trim()) as DriverOutput;
    const full = JSON.parse((out.get('full') ?? '').trim()) as DriverOutput;

    // Before any cleanup the check sees everything the state script made.
    assert.equal(partial.before.clean, false);
    assert.deepEqual(proxyNames(partial.before, 'ipvs-virtual-server').sort(), ['TCP/10.96.0.10:53', 'TCP/10.96.0.10:9153', 'TCP/10.96.0.1:443', 'TCP/192.168.50.10:30080', 'UDP/10.96.0.10:53']);
    assert.deepEqual(partial.before.otherVirtualServers, ['TCP/192.0.2.50:80 (wlc; no real servers)']);
    assert.deepEqual(proxyNames(partial.before, 'dummy-device'), ['kube-ipvs0']);
    assert.deepEqual(proxyNames(partial.before, 'ipset').sort(), ['KUBE-CLUSTER-IP', 'KUBE-IPVS-IPS', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP']);
    assert.equal(proxyNames(partial.before, 'iptables-chain').length, 11);
    assert.equal(proxyNames(partial.before, 'iptables-rule').length, 9);

    // A cleanup that skipped ipsets and kube-ipvs0: exactly those are reported, nothing else.
    assert.equal(partial.cleanup.ok, true);
    assert.equal(partial.after.clean, false);
    assert.deepEqual(proxyNames(partial.after).sort(), ['KUBE-CLUSTER-IP', 'KUBE-IPVS-IPS', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP', 'kube-ipvs0']);
    assert.match(partial.afterText, /^5 piece\(s\) of kube-proxy state are still on this host:\n {2}dummy-device kube-ipvs0: addresses 10\.96\.0\.1, 10\.96\.0\.10\n/);

    // The full cleanup: nothing of kube-proxy's; ipvs.Flush() took the foreign virtual server too.
    assert.equal(full.cleanup.ok, true);
    assert.equal(full.after.clean, true, full.afterText);
    assert.deepEqual(full.after.otherVirtualServers, []);
    assert.deepEqual(full.after.unreadable.filter((u) => !u.startsWith('iptables-legacy-save')), []);
    assert.deepEqual(full.after.leftovers.map((l) => `${l.owner} ${l.name}`), [
      'kubelet mangle KUBE-KUBELET-CANARY (iptables-nft-save)',
      'kubelet filter KUBE-FIREWALL (iptables-nft-save)',
      'kubelet filter INPUT -> KUBE-FIREWALL (iptables-nft-save)',
    ]);

    // Cross-check with the tools themselves.
    assert.doesNotMatch(out.get('ipvsadm') ?? '', /^(TCP|UDP)/m);
    assert.equal((out.get('ipset') ?? '').trim(), '');
    assert.doesNotMatch(out.get('link') ?? '', /kube-ipvs0/);
  });
});
