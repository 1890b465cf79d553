// The local provider's host-side cleanup on the real kernel (one lab VM boot):
// kube-proxy's IPVS-mode state is created with the real tools (ipvsadm, ip, ipset,
// iptables), then kube-local-up's own cleanup path runs: `kube-proxy --cleanup`
// through runKubeProxyCleanup (a stand-in kube-proxy whose --cleanup removes what the
// real one removes) and the host check readHostNetworkState + findLeftovers.
// First with a cleanup that leaves ipsets and kube-ipvs0 behind (the check must name
// exactly those, and down's own removal must then take them), then the full cleanup (the
// check must find nothing of kube-proxy's), then the REAL kube-proxy's --cleanup on the same
// state plus an IPv6 proxier's (its IPv6 sets always stay; in the lab its iptables proxier's
// cleanup failed with "CHAIN_DEL failed (Device or resource busy)"), after which down's own
// removal must leave nothing of kube-proxy's.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LeftoverReport } from '../src/providers/local/host-state.js';
import type { RemovalOutcome } from '../src/providers/local/leftover-removal.js';
import type { CleanupRun } from '../src/providers/local/teardown.js';
import { runScriptInLab } from '../src/lab/index.js';
import { ROOT } from './helpers/cli.js';
import { labAvailability, labDeps } from './helpers/lab.js';
import { findRealSet } from './helpers/real-binaries.js';

const lab = await labAvailability();
const FIXTURES = join(ROOT, 'test', 'fixtures', 'local', 'lab');
const STAND_IN = join(ROOT, 'test', 'stand-ins', 'local', 'kube-proxy');
const DRIVER = `node ${FIXTURES}/cleanup-and-verify.mjs ${ROOT} ${STAND_IN} remove`;
const real = lab.skip === undefined ? findRealSet() : null;
const REAL_SECTION = real === null || 'skip' in real ? '' : `
echo "@@section real"
# A fresh start for the state script: its node address and the kubelet's chains (which every cleanup leaves).
ip link del lab0
iptables -D INPUT -j KUBE-FIREWALL && iptables -F KUBE-FIREWALL && iptables -X KUBE-FIREWALL && iptables -t mangle -X KUBE-KUBELET-CANARY
bash ${FIXTURES}/kube-proxy-state.sh
bash ${FIXTURES}/kube-proxy-state-ipv6.sh
node ${FIXTURES}/cleanup-and-verify.mjs ${ROOT} ${real.bin('kube-proxy')} remove
echo "@@section real-ipset"
ipset list -n
echo "@@section real-ip6tables"
ip6tables-nft-save
`;

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
${REAL_SECTION}`;

interface DriverOutput {
  readonly before: LeftoverReport;
  readonly cleanup: CleanupRun;
  readonly afterCleanup: LeftoverReport;
  readonly removal: RemovalOutcome[] | null;
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

    // A cleanup that skipped ipsets and kube-ipvs0: exactly those are reported, nothing else,
    // and down's own removal then takes exactly those.
    assert.equal(partial.cleanup.ok, true);
    assert.equal(partial.afterCleanup.clean, false);
    assert.deepEqual(proxyNames(partial.afterCleanup).sort(), ['KUBE-CLUSTER-IP', 'KUBE-IPVS-IPS', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP', 'kube-ipvs0']);
    assert.deepEqual(partial.removal?.map((o) => `${o.ok ? 'ok' : 'FAILED'} ${o.what}`), ['ok ipset KUBE-CLUSTER-IP', 'ok ipset KUBE-LOOP-BACK', 'ok ipset KUBE-NODE-PORT-TCP', 'ok ipset KUBE-IPVS-IPS', 'ok kube-ipvs0']);
    assert.equal(partial.after.clean, true, partial.afterText);

    // The full cleanup: nothing of kube-proxy's; ipvs.Flush() took the foreign virtual server too.
    assert.equal(full.cleanup.ok, true);
    assert.equal(full.removal, null, 'nothing was left, so nothing is removed');
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

    if (real === null || 'skip' in real) return;
    // The real kube-proxy's --cleanup on the same state plus the IPv6 proxier's.
    const r = JSON.parse((out.get('real') ?? '').trim()) as DriverOutput;
    process.stdout.write(`# real kube-proxy ${real.versionText} --cleanup: ${r.cleanup.ok ? 'ok' : 'FAILED'}; left: ${proxyNames(r.afterCleanup).join(', ') || 'nothing'}\n# ${r.cleanup.detail.replaceAll('\n', '\n# ')}\n`);
    assert.ok(proxyNames(r.before, 'ipset').includes('KUBE-6-CLUSTER-IP'));
    // Its IPVS cleanup destroys only the IPv4 set names (pkg/proxy/ipvs/proxier.go ipsetInfo), so the IPv6 ones stay.
    assert.ok(proxyNames(r.afterCleanup, 'ipset').includes('KUBE-6-CLUSTER-IP'), JSON.stringify(r.afterCleanup));
    assert.ok(r.removal !== null && r.removal.every((o) => o.ok), JSON.stringify(r.removal));
    assert.equal(r.after.clean, true, r.afterText);
    assert.doesNotMatch(out.get('real-ipset') ?? '', /KUBE-/);
    assert.doesNotMatch(out.get('real-ip6tables') ?? '', /^:KUBE-/m);
  });
});
