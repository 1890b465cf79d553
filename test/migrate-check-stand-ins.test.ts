// `local-up migrate-check` and `assert --mode` (leftovers) against stand-in kubectl:
// a cluster made elsewhere, read through a helper pod per node (deleted afterwards).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { foreignWorld, runCli, standInEnv } from './helpers/stand-ins.js';

/** The cluster "ext" made elsewhere; its node kind-worker also has 10.10.0.3 on eth1 (not an InternalIP). */
function world(options: { kubeIpvs0?: boolean } = {}) {
  const { world: w, kubeconfig } = foreignWorld({
    kubeIpvs0: options.kubeIpvs0 === false ? [] : ['10.96.0.1'],
    moreAddresses: ['11: eth1    inet 10.10.0.3/24 scope global eth1\\       valid_lft forever preferred_lft forever'],
    files: { '/proc/sys/kernel/osrelease': '5.10.0-30-amd64\n' },
  });
  return { w, kubeconfig };
}

describe('migrate-check (stand-ins)', () => {
  test('reads the ConfigMap and the node through a helper pod; an old kernel blocks nftables, other changes are listed; exit 1', async () => {
    const { w, kubeconfig } = world();
    const result = await runCli(['migrate-check', '--to', 'nftables', '--all-nodes', '--kubeconfig', kubeconfig, '--json'], standInEnv(w));
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.target, 'nftables');
    assert.equal(report.ok, false);
    assert.equal(report.inputs.kubeProxyConfig, 'ConfigMap kube-system/kube-proxy, key config.conf');
    const rules = (report.findings as { rule: string; severity: string; subject: string }[]).map((f) => `${f.severity} ${f.rule} ${f.subject}`);
    // 5.10 < 5.13 (pkg/util/kernel/constants.go); 10.10.0.3 is no InternalIP (nftables' default nodePortAddresses is "primary").
    assert.ok(rules.includes('blocker target-kernel kind-worker'), rules.join('\n'));
    assert.ok(rules.includes('change nodeport-addresses kind-worker'), rules.join('\n'));
    assert.ok(rules.includes('change affinity default/sticky'), rules.join('\n'));
    // The stand-in node has no nft: said, not guessed.
    assert.ok(rules.includes('info target-nft kind-worker'), rules.join('\n'));
    assert.deepEqual(w.read().clusters.ext?.pods, {}, 'the helper pod is deleted');
  });

  test('a bad --to is a usage error that touches nothing', async () => {
    const { w, kubeconfig } = world();
    const result = await runCli(['migrate-check', '--to', 'ipvs', '--all-nodes', '--kubeconfig', kubeconfig], standInEnv(w));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--to "ipvs" is not a mode kube-proxy can move to from IPVS/);
    assert.deepEqual(w.calls('kubectl'), []);
  });
});

describe('assert --mode nftables (stand-ins): IPVS leftovers', () => {
  test('virtual servers, kube-ipvs0 and an IPVS ipset left on the node fail with the way to remove them', async () => {
    const { w, kubeconfig } = world();
    const result = await runCli(['assert', '--mode', 'nftables', '--all-nodes', '--kubeconfig', kubeconfig], standInEnv(w));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^FAIL: IPVS leftovers on node kind-worker \(kube-proxy in nftables mode\)$/m);
    assert.match(result.stdout, /^FAIL ipvs-virtual-servers: \d+ IPVS virtual servers are still in the kernel$/m);
    assert.match(result.stdout, /^FAIL ipvs-ipsets: IPVS-mode ipsets: KUBE-CLUSTER-IP$/m);
    assert.match(result.stdout, /kube-proxy --cleanup/);
    assert.deepEqual(w.read().clusters.ext?.pods, {});
  });
});
