// compare-modes' side-by-side model (src/compare/model.ts): two hand-made runs, and
// predictions made by the real migrate-check rules on the cluster those runs saw
// (a single node with a second address, the smoke Services), so the matching between a
// difference and the rule that predicted it is tested against what the rules really say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModeRun } from '../src/compare/model.js';
import { compareRuns } from '../src/compare/model.js';
import type { NodeProbe } from '../src/compare/probes.js';
import { readClusterValue } from '../src/kube/read.js';
import { readKubeProxyConfigText } from '../src/migrate/kube-proxy-config.js';
import type { MigrationReport, NodeFacts } from '../src/migrate/rules.js';
import { checkMigration } from '../src/migrate/rules.js';
import type { SmokeCase } from '../src/smoke/report.js';

type Json = Record<string, unknown>;
const NS = 'local-up-smoke-aaaaaa';
const service = (name: string, spec: Json): Json => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec } });
const slice = (name: string): Json => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: ['10.244.0.5', '10.244.0.6', '10.244.0.7'].map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'lab' })),
});

/** The smoke Services as smoke creates them, and the lab node: InternalIP on lab0, the CNI bridge's address on cni0. */
function predict(target: 'nftables' | 'iptables' = 'nftables', nodePortAddresses = ''): MigrationReport {
  const objects = [
    service('clusterip', { clusterIP: '10.0.0.20' }), slice('clusterip'),
    service('affinity', { clusterIP: '10.0.0.21', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), slice('affinity'),
    service('nodeport', { type: 'NodePort', clusterIP: '10.0.0.22', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 31000, protocol: 'TCP' }] }), slice('nodeport'),
  ];
  const node: NodeFacts = {
    name: 'lab', internalIPs: ['192.168.50.10'], addresses: ['127.0.0.1', '192.168.50.10', '10.244.0.1', '::1'], kubeIpvs0: ['10.0.0.20', '10.0.0.21', '10.0.0.22'],
    table: null, kernelRelease: '6.1.0-26-amd64', nftVersion: 'nftables v1.0.6', unread: [],
  };
  return checkMigration({
    target,
    cluster: readClusterValue({ kind: 'List', items: objects }),
    nodes: [node],
    kubeProxy: { version: { major: 1, minor: 34, patch: 11 }, versionFrom: 'test', config: readKubeProxyConfigText(`kind: KubeProxyConfiguration\nmode: ipvs\n${nodePortAddresses}`), configFrom: 'test' },
  });
}

const smokeCase = (group: string, name: string, status: SmokeCase['status'] = 'passed', message = 'ok'): SmokeCase => ({ group, name, status, message, evidence: [], seconds: 1 });
const probe = (kind: NodeProbe['kind'], address: string, answered: boolean): NodeProbe => ({ node: 'lab', kind, address, target: `HTTP ${address}:31000`, answered, detail: answered ? 'answered by backend-1' : 'exit 7' });

const ipvsCases = (): SmokeCase[] => [
  smokeCase('proxy-mode', 'kube-proxy /proxyMode on lab', 'passed', 'kube-proxy runs in ipvs mode'),
  smokeCase('ipvs', 'IPVS on lab: Service clusterip port http'),
  smokeCase('spread', 'ClusterIP Service spreads requests over the backends (rr: even)', 'passed', '30 answers: a 10, b 10, c 10 (even: each 10 ± 3)'),
  smokeCase('affinity', 'ClientIP affinity keeps one client on one backend'),
  smokeCase('nodeport', 'NodePort answers on lab'),
];
const nftCases = (): SmokeCase[] => [
  smokeCase('proxy-mode', 'kube-proxy /proxyMode on lab', 'passed', 'kube-proxy runs in nftables mode'),
  smokeCase('ipvs', 'IPVS virtual servers of the smoke Services on every node', 'skipped', 'skipped: KUBE_PROXY_MODE=nftables programs no IPVS table'),
  smokeCase('spread', 'ClusterIP Service spreads requests over the backends (nftables: coverage)', 'passed', '30 answers: a 7, b 12, c 11 (coverage)'),
  smokeCase('affinity', 'ClientIP affinity keeps one client on one backend'),
  smokeCase('nodeport', 'NodePort answers on lab'),
];
const run = (mode: string, cases: SmokeCase[], probes: NodeProbe[], namespace = NS): ModeRun => ({ mode, namespace, cases, probes });
const row = (c: ReturnType<typeof compareRuns>, check: RegExp) => {
  const found = c.rows.find((r) => check.test(r.check));
  assert.ok(found, `no row ${check} in ${c.rows.map((r) => r.check).join(' | ')}`);
  return found;
};

describe('compare-modes: each difference matched to the rule that predicted it', () => {
  it('the lab case: rotation becomes a random pick and the CNI bridge address loses its NodePort, both predicted; nothing else differs', () => {
    const before = run('ipvs', ipvsCases(), [probe('nodeport-address', '192.168.50.10', true), probe('nodeport-address', '10.244.0.1', true), probe('nodeport-localhost', '127.0.0.1', false), probe('ping-cluster-ip', '10.0.0.20', false), probe('cluster-ip-host-port', '10.0.0.20', false)]);
    const after = run('nftables', nftCases(), [probe('nodeport-address', '192.168.50.10', true), probe('nodeport-address', '10.244.0.1', false), probe('nodeport-localhost', '127.0.0.1', false), probe('ping-cluster-ip', '10.0.0.30', false), probe('cluster-ip-host-port', '10.0.0.30', false)], 'local-up-smoke-bbbbbb');
    const c = compareRuns(before, after, predict());
    assert.equal(c.ok, true, JSON.stringify(c.rows.filter((r) => r.verdict === 'unexplained'), null, 2));
    const spread = row(c, /^spread: /);
    assert.equal(spread.verdict, 'explained');
    assert.equal(spread.finding?.rule, 'scheduler');
    assert.match(spread.before.text, /^rr: even: /);
    assert.match(spread.after.text, /^nftables: coverage: /);
    const bridge = row(c, /to its address 10\.244\.0\.1$/);
    assert.equal(bridge.verdict, 'explained');
    assert.equal(bridge.finding?.rule, 'nodeport-addresses');
    assert.equal(row(c, /to its address 192\.168\.50\.10$/).verdict, 'same');
    assert.equal(row(c, /localhost/).verdict, 'same');
    // Different ClusterIPs in the two runs (two smoke namespaces), still one row per node.
    assert.equal(row(c, /^ping the ClusterIP/).verdict, 'same');
    assert.equal(row(c, /^ping the ClusterIP/).finding?.rule, 'service-address-ports');
    assert.equal(row(c, /^proxy-mode: /).verdict, 'switch');
    assert.equal(row(c, /^ipvs: /).verdict, 'not-compared');
    assert.equal(row(c, /^affinity: /).verdict, 'same');
    // The affinity rule's change (timeout semantics) is not something these probes see: listed, not failed.
    assert.deepEqual(c.unexercised.map((f) => f.rule), ['affinity']);
    assert.deepEqual({ explained: c.counts.explained, unexplained: c.counts.unexplained }, { explained: 2, unexplained: 0 });
  });

  it('a check that could not run (ERROR) in either mode is not "the same": nothing was compared and compare-modes is not OK', () => {
    // The lab run: every kubectl exec was refused, so the traffic checks errored in both modes; they had passed as "same" (and spread as EXPLAINED).
    const exec = 'probing HTTP 10.96.57.249:80 from local-up-smoke-a3b651/client failed: kubectl exec exited with code 1';
    const erroring = (cases: SmokeCase[]) => cases.map((c) => (['spread', 'affinity', 'nodeport'].includes(c.group) ? { ...c, status: 'error' as const, message: exec } : c));
    const c = compareRuns(run('ipvs', erroring(ipvsCases()), []), run('nftables', erroring(nftCases()), []), predict());
    assert.equal(c.ok, false);
    for (const check of [/^spread: /, /^affinity: /, /^nodeport: /]) {
      assert.equal(row(c, check).verdict, 'error');
      assert.match(row(c, check).note, /could not run in ipvs and nftables mode/);
    }
    // One side only: still not compared.
    const one = compareRuns(run('ipvs', ipvsCases(), []), run('nftables', nftCases().map((x) => (x.group === 'nodeport' ? { ...x, status: 'error' as const, message: exec } : x)), []), predict());
    assert.equal(row(one, /^nodeport: /).verdict, 'error');
    assert.match(row(one, /^nodeport: /).note, /could not run in nftables mode/);
    assert.equal(one.ok, false);
    assert.equal(one.counts.error, 1);
  });

  it('a NodePort address that stops answering with nodePortAddresses covering it is unexplained (no rule predicted it)', () => {
    const before = run('ipvs', ipvsCases(), [probe('nodeport-address', '10.244.0.1', true)]);
    const after = run('nftables', nftCases(), [probe('nodeport-address', '10.244.0.1', false)]);
    const c = compareRuns(before, after, predict('nftables', 'nodePortAddresses: [0.0.0.0/0]\n'));
    const bridge = row(c, /10\.244\.0\.1$/);
    assert.equal(bridge.verdict, 'unexplained');
    assert.equal(bridge.finding, null);
    assert.equal(c.ok, false);
  });

  it('a firm prediction that did not come true is unexplained too: the rule said 10.244.0.1 loses its NodePort, it still answers', () => {
    const c = compareRuns(run('ipvs', ipvsCases(), [probe('nodeport-address', '10.244.0.1', true)]), run('nftables', nftCases(), [probe('nodeport-address', '10.244.0.1', true)]), predict());
    const bridge = row(c, /10\.244\.0\.1$/);
    assert.equal(bridge.verdict, 'unexplained');
    assert.equal(bridge.finding?.rule, 'nodeport-addresses');
    assert.match(bridge.note, /predicted a change here, but it answered in both modes/);
  });

  it('localhost NodePorts under iptables: the change the rule predicts is explained; the same change towards nftables is not', () => {
    const before = run('ipvs', ipvsCases(), [probe('nodeport-localhost', '127.0.0.1', false)]);
    const after = (mode: string) => run(mode, nftCases(), [probe('nodeport-localhost', '127.0.0.1', true)]);
    assert.equal(row(compareRuns(before, after('iptables'), predict('iptables')), /localhost/).verdict, 'explained');
    assert.equal(row(compareRuns(before, after('nftables'), predict('nftables')), /localhost/).verdict, 'unexplained');
  });

  it('a smoke check that fails only after the switch is unexplained: no rule predicts broken Services', () => {
    const after = nftCases().map((c) => (c.group === 'nodeport' ? smokeCase('nodeport', c.name, 'failed', '3 of 3 requests failed') : c));
    const c = compareRuns(run('ipvs', ipvsCases(), []), run('nftables', after, []), predict());
    const nodeport = row(c, /^nodeport: /);
    assert.equal(nodeport.verdict, 'unexplained');
    assert.match(nodeport.note, /passed before, failed after/);
    assert.equal(c.ok, false);
  });

  it('a changed endpoint choice with no scheduler finding is unexplained; kube-proxy not in its mode is unexplained', () => {
    const noScheduler: MigrationReport = { ...predict(), findings: predict().findings.filter((f) => f.rule !== 'scheduler') };
    assert.equal(row(compareRuns(run('ipvs', ipvsCases(), []), run('nftables', nftCases(), []), noScheduler), /^spread: /).verdict, 'unexplained');
    const wrongMode = nftCases().map((c) => (c.group === 'proxy-mode' ? smokeCase('proxy-mode', c.name, 'failed', 'kube-proxy runs in "ipvs" mode, not "nftables"') : c));
    assert.equal(row(compareRuns(run('ipvs', ipvsCases(), []), run('nftables', wrongMode, []), predict()), /^proxy-mode: /).verdict, 'unexplained');
  });

  it('an address only one mode has (kube-ipvs0 gone, a new interface) is not compared', () => {
    const c = compareRuns(run('ipvs', ipvsCases(), [probe('nodeport-address', '10.9.9.9', true)]), run('nftables', nftCases(), []), predict());
    assert.equal(row(c, /10\.9\.9\.9$/).verdict, 'not-compared');
    assert.equal(c.ok, true);
  });
});
