// compare-modes' pure parts besides the model: the plan (what runs and what --dry-run
// prints), the node probes' judgements, the report (text, JUnit), and the one change the
// local provider makes to kube-proxy's configuration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns } from '../src/compare/model.js';
import { formatComparePlan, planCompare } from '../src/compare/plan.js';
import { judgeBackendAnswer, judgeHttpAnswer, judgePing, nodePortCandidates } from '../src/compare/probes.js';
import type { CompareResult } from '../src/compare/report.js';
import { formatCompareReport, renderCompareJunit } from '../src/compare/report.js';
import type { RunResult } from '../src/exec/runner.js';
import type { MigrationReport } from '../src/migrate/rules.js';
import { withProxyMode } from '../src/providers/local/switch-mode.js';
import { childrenNamed, parseXml } from './helpers/xml.js';

const result = (over: Partial<RunResult>): RunResult => ({ command: 'curl -sS', exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, notFound: false, durationMs: 5, ...over });

describe('compare-modes plan', () => {
  const plan = planCompare({ cluster: 'local-up', from: 'ipvs', to: 'nftables', nodes: ['lab'], switchLines: ['stop kube-proxy (pid 42)', 'kube-proxy --cleanup'], hostListenerPort: 10256 });

  it('smoke before, the switch, smoke after, the leftover check: in this order', () => {
    assert.deepEqual(plan.steps.map((s) => s.id), ['smoke-before', 'switch', 'smoke-after', 'leftovers']);
    assert.match(plan.steps[0]?.title ?? '', /ipvs mode; migrate-check --to nftables/);
    assert.match(plan.steps[3]?.title ?? '', /^assert --mode nftables/);
  });

  it('--dry-run prints every step with the provider\'s own switch lines, and says nothing changed', () => {
    const text = formatComparePlan(plan, 'local-up');
    for (const step of plan.steps) assert.ok(text.includes(step.title), step.title);
    assert.match(text, /^ {3}- stop kube-proxy \(pid 42\)$/m);
    assert.match(text, /^ {3}- \/proxyMode must answer nftables on every node$/m);
    assert.match(text, /port 10256/);
    assert.match(text, /nothing was changed: --dry-run/);
  });
});

describe('compare-modes node probes: judgements', () => {
  it('a NodePort answers only when a smoke backend answered', () => {
    assert.deepEqual(judgeBackendAnswer(result({ stdout: 'backend-1\n' }), ['backend-1', 'backend-2']), { answered: true, detail: 'answered by backend-1' });
    assert.equal(judgeBackendAnswer(result({ stdout: 'sshd' }), ['backend-1']).answered, false);
    assert.deepEqual(judgeBackendAnswer(result({ exitCode: 7, stderr: 'curl: (7) Failed to connect to 10.244.0.1 port 31000: Connection refused\n' }), ['backend-1']), { answered: false, detail: 'exit 7: curl: (7) Failed to connect to 10.244.0.1 port 31000: Connection refused' });
    assert.deepEqual(judgeBackendAnswer(result({ exitCode: null, notFound: true }), ['b']), { answered: false, detail: 'curl is not installed on the node' });
  });

  it('a host port answers on any HTTP status; ping on exit 0', () => {
    assert.deepEqual(judgeHttpAnswer(result({ stdout: '503' })), { answered: true, detail: 'HTTP 503' });
    assert.equal(judgeHttpAnswer(result({ exitCode: 28, timedOut: false })).answered, false);
    assert.equal(judgePing(result({ exitCode: 1 })).answered, false);
    assert.equal(judgePing(result({ exitCode: 0 })).answered, true);
  });

  it('NodePort candidates: the family of the ClusterIP, no loopback, no IPv6 link-local, once each', () => {
    const all = ['127.0.0.1', '192.168.50.10', '10.244.0.1', '192.168.50.10', '::1', 'fe80::1', 'fd00::10'];
    assert.deepEqual(nodePortCandidates(all, 4), ['192.168.50.10', '10.244.0.1']);
    assert.deepEqual(nodePortCandidates(all, 6), ['fd00::10']);
  });
});

describe('compare-modes report', () => {
  const finding = { rule: 'nodeport-addresses' as const, severity: 'change' as const, scope: 'node' as const, subject: 'lab', message: 'NodePorts answer on 10.244.0.1 today', source: 'kubernetes/kubernetes@v1.34.11 cmd/kube-proxy/app/server_linux.go', addresses: ['10.244.0.1'] };
  const predictions: MigrationReport = { target: 'nftables', ok: false, counts: { blocker: 0, change: 1, info: 0 }, findings: [finding], inputs: { kubeProxyVersion: '1.34.11', kubeProxyConfig: 'test', nodes: [] } };
  const probe = (address: string, answered: boolean) => ({ node: 'lab', kind: 'nodeport-address' as const, address, target: `HTTP ${address}:31000`, answered, detail: answered ? 'answered by backend-1' : 'exit 7' });
  const comparison = compareRuns(
    { mode: 'ipvs', namespace: 'ns-a', cases: [], probes: [probe('10.244.0.1', true), probe('10.0.2.15', true)] },
    { mode: 'nftables', namespace: 'ns-b', cases: [], probes: [probe('10.244.0.1', false), probe('10.0.2.15', false)] },
    predictions,
  );
  const report: CompareResult = {
    ok: false, cluster: 'local-up', from: 'ipvs', to: 'nftables', plan: planCompare({ cluster: 'local-up', from: 'ipvs', to: 'nftables', nodes: ['lab'], switchLines: [], hostListenerPort: 10256 }),
    steps: [{ id: 'switch', title: 'switch kube-proxy from ipvs to nftables', seconds: 12, lines: ['kube-proxy (pid 42) stopped'] }],
    comparison, predictions, smoke: { before: null, after: null }, leftovers: [], stopped: null,
  };

  it('text: both columns, then each difference with the finding and its source, and the verdict', () => {
    const text = formatCompareReport(report);
    assert.match(text, /^CHECK +ipvs +nftables +VERDICT$/m);
    assert.match(text, /^NodePort from node lab to its address 10\.244\.0\.1 +answered by backend-1; HTTP 10\.244\.0\.1:31000 +no answer \(exit 7\); HTTP 10\.244\.0\.1:31000 +EXPLAINED \[nodeport-addresses\]$/m);
    assert.match(text, /^ {4}nftables: no answer \(exit 7\); HTTP 10\.244\.0\.1:31000$/m);
    assert.match(text, /^ {2}UNEXPLAINED NodePort from node lab to its address 10\.0\.2\.15: answered before, no answer after, and no migrate-check rule predicted it$/m);
    assert.match(text, /^ {4}source: kubernetes\/kubernetes@v1\.34\.11 cmd\/kube-proxy\/app\/server_linux\.go$/m);
    assert.match(text, /^compare-modes: FAIL \(2 rows: 0 same, 1 explained, 1 unexplained, 0 could not run, 0 not compared\); leftovers none$/m);
  });

  it('JUnit: the unexplained row fails, the explained one passes with its finding in system-out', () => {
    const suite = childrenNamed(parseXml(renderCompareJunit(report)), 'testsuite')[0];
    assert.ok(suite !== undefined);
    const cases = childrenNamed(suite, 'testcase');
    assert.equal(cases.length, 2);
    const failed = cases.filter((c) => childrenNamed(c, 'failure').length > 0).map((c) => c.attributes.name);
    assert.deepEqual(failed, ['NodePort from node lab to its address 10.0.2.15']);
  });
});

describe('the local provider switches only the mode in kube-proxy\'s configuration', () => {
  it('mode changes; every other line, comments included, stays', () => {
    const before = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n# written by local-up up\nmode: ipvs\nipvs:\n  scheduler: rr\nclusterCIDR: 10.244.0.0/16\n';
    const after = withProxyMode(before, 'nftables');
    assert.equal(after, before.replace('mode: ipvs', 'mode: nftables'));
    assert.throws(() => withProxyMode('kind: KubeletConfiguration\n', 'nftables'), /not KubeProxyConfiguration/);
  });
});
