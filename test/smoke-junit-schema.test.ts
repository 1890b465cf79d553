// The JUnit XML of `local-up smoke` and of `local-up assert` against the schemas
// CI systems read (test/fixtures/junit/: Jenkins' JUnit schema and the xUnit
// plugin's), with xmllint. Skips with the reason where xmllint is missing.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SmokeReport } from '../src/smoke/report.js';
import { renderSmokeJunit } from '../src/smoke/report.js';
import { ROOT, runInProcess, tempDir } from './helpers/cli.js';
import { childrenNamed, parseXml } from './helpers/xml.js';
import { junitSchemaErrors, xmllintMissing } from './fixtures/junit/xmllint.js';

const missing = xmllintMissing();
const ASSERT_FIXTURES = join(ROOT, 'test', 'fixtures', 'assert');

const REPORT: SmokeReport = {
  ok: false,
  kubeconfig: '/tmp/kube & "config"',
  namespace: 'local-up-smoke-ab12cd',
  mode: 'ipvs',
  scheduler: 'rr',
  image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
  nodes: ['kind-control-plane', 'kind-worker'],
  startedAt: '2025-11-26T14:00:00.123Z',
  seconds: 12.3456,
  cleanup: 'deleted',
  interrupted: false,
  cases: [
    { group: 'setup', name: 'setup: 3 backends, a client and 5 Services', status: 'passed', message: 'ready', evidence: ['pod backend-1 10.244.1.2 on kind-worker, ready'], seconds: 4.2 },
    { group: 'ipvs', name: 'IPVS on kind-worker: Service clusterip port http', status: 'failed', message: 'missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80', evidence: ['ClusterIP TCP/10.96.0.20:80: rr: 10.244.2.2:8080 w1', 'a <tag> & "quotes" \u0001 control'], seconds: 0.5 },
    { group: 'dns', name: 'DNS name of the ClusterIP Service resolves through kube-dns and answers', status: 'error', message: 'probing failed: kubectl exited with code 1', evidence: ['The connection to the server was refused'], seconds: 0.1 },
    { group: 'scale-ipvs', name: 'after scaling to 1, removed backends leave IPVS on every node', status: 'skipped', message: 'skipped: KUBE_PROXY_MODE=iptables programs no IPVS table', evidence: [], seconds: 0 },
  ],
};

describe('JUnit XML against the CI schemas', { skip: missing ?? false }, () => {
  test('smoke: passed, failed, error and skipped cases, with characters XML must escape', () => {
    const file = join(tempDir(), 'smoke.xml');
    const xml = renderSmokeJunit(REPORT, 'ci-runner-1');
    writeFileSync(file, xml);
    assert.deepEqual(junitSchemaErrors(file), []);
    const root = parseXml(xml);
    assert.deepEqual(root.attributes, { name: 'local-up smoke', tests: '4', failures: '1', errors: '1', time: '12.346' });
    const suite = childrenNamed(root, 'testsuite')[0];
    assert.deepEqual(suite?.attributes, { name: 'local-up smoke (ipvs)', tests: '4', failures: '1', errors: '1', skipped: '1', time: '12.346', timestamp: '2025-11-26T14:00:00', hostname: 'ci-runner-1' });
    const cases = childrenNamed(suite ?? root, 'testcase');
    const failure = childrenNamed(cases[1] ?? root, 'failure')[0];
    assert.equal(failure?.attributes.message, 'missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80');
    assert.equal(failure?.attributes.type, 'ipvs');
    assert.match(failure?.text ?? '', /^a <tag> & "quotes" \uFFFD control$/m);
    assert.equal(childrenNamed(cases[3] ?? root, 'skipped')[0]?.text, 'skipped: KUBE_PROXY_MODE=iptables programs no IPVS table');
    assert.equal(childrenNamed(suite ?? root, 'properties')[0]?.children.find((p) => p.attributes.name === 'kubeconfig')?.attributes.value, '/tmp/kube & "config"');
  });

  test('the schemas are strict enough to catch what CI would reject', () => {
    const file = join(tempDir(), 'bad.xml');
    writeFileSync(file, '<?xml version="1.0"?>\n<testsuites skipped="0"><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="c"><skipped message="why"/></testcase></testsuite></testsuites>\n');
    const errors = junitSchemaErrors(file);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors.join('\n'), /attribute 'skipped': The attribute 'skipped' is not allowed/);
  });

  test('assert --junit, passing and failing (offline, from the assert fixtures)', async () => {
    for (const [table, code] of [['proc-net-ip_vs-ok.txt', 0], ['ipvsadm-Ln-drift.txt', 1]] as const) {
      const file = join(tempDir(), 'assert.xml');
      const result = await runInProcess(['assert', '--ipvs', join(ASSERT_FIXTURES, table), '--cluster', join(ASSERT_FIXTURES, 'cluster.json'), '--node-name', 'kind-worker', '--node-ip', '172.18.0.3', '--hz', '250', '--junit', file]);
      assert.equal(result.code, code, result.stderr);
      assert.deepEqual(junitSchemaErrors(file), [], table);
    }
  });
});
