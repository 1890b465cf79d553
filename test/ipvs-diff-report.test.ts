// Reports of a diff: human text (exact), JSON (shape and values) and JUnit XML
// (exact, well-formed, parsed back, with hostile text escaped).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffIpvsState } from '../src/ipvs/diff.js';
import type { NodeCheck } from '../src/ipvs/diff.js';
import type { ExpectedIpvsState } from '../src/ipvs/expect.js';
import type { IpvsService, IpvsTable } from '../src/ipvs/model.js';
import { xmlAttribute, xmlText } from '../src/io/junit.js';
import { formatIpvsReport, ipvsCheckJson, renderJunit } from '../src/ipvs/report.js';
import { childrenNamed, parseXml } from './helpers/xml.js';

const WEB = { namespace: 'default', name: 'web', portName: 'http' };
const DNS = { namespace: 'kube-system', name: 'kube-dns', portName: 'dns' };

const EXPECTED: ExpectedIpvsState = {
  families: [4],
  kubeIpvs0Addresses: ['10.96.0.10', '10.96.0.20'],
  notes: [],
  virtualServers: [
    {
      protocol: 'TCP',
      address: '10.96.0.20',
      port: 80,
      scheduler: 'rr',
      persistent: null,
      realServers: [
        { address: '10.244.1.5', port: 8080, weight: 1 },
        { address: '10.244.2.7', port: 8080, weight: 1 },
      ],
      service: WEB,
      kind: 'ClusterIP',
    },
    { protocol: 'UDP', address: '10.96.0.10', port: 53, scheduler: 'rr', persistent: null, realServers: [{ address: '10.244.0.3', port: 53, weight: 1 }], service: DNS, kind: 'ClusterIP' },
  ],
};

function service(over: Partial<IpvsService>): IpvsService {
  return { protocol: 'TCP', address: '10.96.0.20', port: 80, fwmark: null, family: 4, scheduler: 'rr', flags: [], persistent: null, destinations: [], ...over };
}

const rs = (address: string, port: number, weight: number) => ({ address, port, forward: 'Masq', weight, activeConns: 0, inactiveConns: 3 });

function check(table: IpvsTable): NodeCheck {
  return { node: 'kind-worker', families: [4], expected: EXPECTED, diff: diffIpvsState(EXPECTED, table, { excludeCidrs: [] }) };
}

const FAILING = check({
  format: 'ipvsadm-list',
  unknown: [],
  services: [
    service({ destinations: [rs('10.244.2.7', 8080, 1), rs('10.244.3.9', 8080, 0)] }),
    service({ protocol: 'UDP', address: '10.96.0.10', port: 53, destinations: [rs('10.244.0.3', 53, 1)] }),
    service({ address: '10.96.0.99', port: 443, scheduler: 'wrr', destinations: [rs('10.244.4.4', 443, 1)] }),
    service({ address: '198.51.100.0', port: 20000 }),
  ],
});

const PASSING = check({
  format: 'ipvsadm-list',
  unknown: [],
  services: [
    service({ destinations: [rs('10.244.1.5', 8080, 1), rs('10.244.2.7', 8080, 1)] }),
    service({ protocol: 'UDP', address: '10.96.0.10', port: 53, destinations: [rs('10.244.0.3', 53, 1)] }),
  ],
});

test('human report: a verdict, the counts, one line per finding grouped by Service port, then notes', () => {
  assert.equal(
    formatIpvsReport(FAILING),
    [
      'IPVS on node kind-worker (IPv4): FAIL: 2 failures, 1 warning',
      '  expected 2 virtual servers for 2 Service ports; the table has 4 (2 matched, 1 ignored)',
      'FAIL default/web http: missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80',
      'WARN default/web http: draining real server 10.244.3.9:8080 (weight 0, 0 active/3 inactive connections) on TCP/10.96.0.20:80',
      'FAIL (no Service): unexpected virtual server TCP/10.96.0.99:443 (wrr, 1 real server)',
      "note: TCP/198.51.100.0:20000 is kube-proxy's start-up scheduler probe (normally deleted right after the probe); not a finding",
      '',
    ].join('\n'),
  );
  assert.equal(
    formatIpvsReport(PASSING),
    ['IPVS on node kind-worker (IPv4): OK: 2 virtual servers of 2 Service ports match', '  expected 2 virtual servers for 2 Service ports; the table has 2 (2 matched, 0 ignored)', ''].join('\n'),
  );
});

test('JSON report: verdict, counts, every Service port with its findings, notes', () => {
  const json = JSON.parse(JSON.stringify(ipvsCheckJson(FAILING))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['node', 'families', 'ok', 'failures', 'warnings', 'counts', 'kubeIpvs0Addresses', 'services', 'notes']);
  assert.equal(json.node, 'kind-worker');
  assert.deepEqual(json.families, ['IPv4']);
  assert.deepEqual([json.ok, json.failures, json.warnings], [false, 2, 1]);
  assert.deepEqual(json.kubeIpvs0Addresses, ['10.96.0.10', '10.96.0.20']);
  const services = json.services as { label: string; ok: boolean; service: unknown; findings: { kind: string; severity: string; realServer: string | null }[] }[];
  assert.deepEqual(
    services.map((s) => [s.label, s.ok, s.findings.map((f) => `${f.severity}:${f.kind}:${f.realServer ?? '-'}`)]),
    [
      ['default/web http', false, ['failure:missing-real-server:10.244.1.5:8080', 'warning:draining-real-server:10.244.3.9:8080']],
      ['kube-system/kube-dns dns', true, []],
      ['(no Service)', false, ['failure:unexpected-virtual-server:-']],
    ],
  );
  assert.deepEqual(services[0]?.service, WEB);
  assert.equal(services[2]?.service, null);
});

test('JUnit: one testsuite per node, one testcase per Service port, failure with the evidence (exact text)', () => {
  assert.equal(
    renderJunit([FAILING], { timeSeconds: { 'kind-worker': 0.0123 } }),
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<testsuites name="local-up assert" tests="3" failures="2" errors="0" time="0.012">',
      '  <testsuite name="ipvs kind-worker" tests="3" failures="2" errors="0" skipped="0" time="0.012">',
      '    <testcase name="default/web http" classname="ipvs.kind-worker" time="0.000">',
      '      <failure message="missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80" type="missing-real-server">FAIL missing-real-server: missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80; expected: weight 1</failure>',
      '      <system-out>WARN draining-real-server: draining real server 10.244.3.9:8080 (weight 0, 0 active/3 inactive connections) on TCP/10.96.0.20:80; actual: weight 0, 0 active/3 inactive connections</system-out>',
      '    </testcase>',
      '    <testcase name="kube-system/kube-dns dns" classname="ipvs.kind-worker" time="0.000"/>',
      '    <testcase name="(no Service)" classname="ipvs.kind-worker" time="0.000">',
      '      <failure message="unexpected virtual server TCP/10.96.0.99:443 (wrr, 1 real server)" type="unexpected-virtual-server">FAIL unexpected-virtual-server: unexpected virtual server TCP/10.96.0.99:443 (wrr, 1 real server); actual: wrr, 1 real server</failure>',
      '    </testcase>',
      "    <system-out>note: TCP/198.51.100.0:20000 is kube-proxy's start-up scheduler probe (normally deleted right after the probe); not a finding</system-out>",
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n'),
  );
});

test('JUnit for several nodes parses back with the common schema attributes and totals', () => {
  const other: NodeCheck = { ...PASSING, node: 'kind-control-plane' };
  const root = parseXml(renderJunit([FAILING, other]));
  assert.equal(root.name, 'testsuites');
  assert.deepEqual(root.attributes, { name: 'local-up assert', tests: '5', failures: '2', errors: '0', time: '0.000' });
  const suites = childrenNamed(root, 'testsuite');
  assert.deepEqual(suites.map((s) => [s.attributes.name, s.attributes.tests, s.attributes.failures]), [
    ['ipvs kind-worker', '3', '2'],
    ['ipvs kind-control-plane', '2', '0'],
  ]);
  for (const suite of suites) {
    assert.deepEqual(Object.keys(suite.attributes).sort(), ['errors', 'failures', 'name', 'skipped', 'tests', 'time']);
    for (const testcase of childrenNamed(suite, 'testcase')) {
      assert.deepEqual(Object.keys(testcase.attributes).sort(), ['classname', 'name', 'time']);
      for (const failure of childrenNamed(testcase, 'failure')) assert.deepEqual(Object.keys(failure.attributes).sort(), ['message', 'type']);
    }
  }
  const failure = childrenNamed(childrenNamed(suites[0] as never, 'testcase')[0] as never, 'failure')[0];
  assert.equal(failure?.attributes.message, 'missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80');
});

test('JUnit escapes hostile text from the table: quotes, markup, ampersands, control characters', () => {
  const hostile = check({
    format: 'ipvsadm-list',
    unknown: ['<script>&"\u0001\'</script> ]]>'],
    services: [service({ address: '10.96.0.99', scheduler: 'a"b<c>&d\te\u0001' })],
  });
  const xml = renderJunit([hostile]);
  const root = parseXml(xml);
  const suite = childrenNamed(root, 'testsuite')[0];
  const unexpected = childrenNamed(suite as never, 'testcase').find((c) => c.attributes.name === '(no Service)');
  const failure = childrenNamed(unexpected as never, 'failure')[0];
  assert.equal(failure?.attributes.message, 'unexpected virtual server TCP/10.96.0.99:80 (a"b<c>&d\te\uFFFD, 0 real servers)');
  const out = childrenNamed(suite as never, 'system-out')[0]?.text ?? '';
  assert.ok(out.includes('"<script>&\\"\\u0001\'</script> ]]>"'), out);
  assert.equal(xmlText('a<b>&\u0000c'), 'a&lt;b&gt;&amp;\uFFFDc');
  assert.equal(xmlAttribute('say "hi"\n\'x\''), 'say &quot;hi&quot;&#10;&apos;x&apos;');
});

test('the XML reader used above rejects malformed documents (so the checks can fail)', () => {
  for (const bad of ['<a><b></a>', '<a x="1" x="2"/>', '<a>&nope;</a>', '<a>1 < 2</a>', '<a/><b/>', '<a b="<"/>', '<a>\u0001</a>']) {
    assert.throws(() => parseXml(bad), Error, bad);
  }
});
