// diffIpvsState: one hand-written case per finding kind, plus what must NOT be
// a finding (probe VS, excludeCIDRs, other families, jiffies, absent columns).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNodeIpvs, diffIpvsState } from '../src/ipvs/diff.js';
import type { IpvsDiff } from '../src/ipvs/diff.js';
import type { ExpectedIpvsState } from '../src/ipvs/expect.js';
import type { ExpectedVirtualServer, IpvsDestination, IpvsService, IpvsTable, Persistence } from '../src/ipvs/model.js';
import { readClusterValue } from '../src/kube/read.js';

const WEB = { namespace: 'default', name: 'web', portName: 'http' };
const DNS = { namespace: 'kube-system', name: 'kube-dns', portName: 'dns' };

function expectedVs(over: Partial<ExpectedVirtualServer> = {}): ExpectedVirtualServer {
  return {
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
    ...over,
  };
}

function destination(address: string, port: number, weight = 1, over: Partial<IpvsDestination> = {}): IpvsDestination {
  return { address, port, forward: 'Masq', weight, activeConns: 0, inactiveConns: 0, ...over };
}

function actualVs(over: Partial<IpvsService> = {}): IpvsService {
  return {
    protocol: 'TCP',
    address: '10.96.0.20',
    port: 80,
    fwmark: null,
    family: 4,
    scheduler: 'rr',
    flags: [],
    persistent: null,
    destinations: [destination('10.244.1.5', 8080), destination('10.244.2.7', 8080)],
    ...over,
  };
}

function state(virtualServers: ExpectedVirtualServer[], families: (4 | 6)[] = [4]): ExpectedIpvsState {
  return { families, virtualServers, kubeIpvs0Addresses: [], notes: [] };
}

function ipvsTable(services: IpvsService[], over: Partial<IpvsTable> = {}): IpvsTable {
  return { format: 'ipvsadm-list', services, unknown: [], ...over };
}

function persistence(timeout: number | null, unit: Persistence['unit'] = 'seconds'): Persistence {
  return { timeout, unit, netmask: null, pe: null };
}

function diff(expected: ExpectedVirtualServer[], actual: IpvsService[], options: { excludeCidrs?: string[]; families?: (4 | 6)[]; table?: Partial<IpvsTable> } = {}): IpvsDiff {
  return diffIpvsState(state(expected, options.families), ipvsTable(actual, options.table), { excludeCidrs: options.excludeCidrs ?? [] });
}

/** [severity, group label, message] for every finding. */
function findings(result: IpvsDiff): [string, string, string][] {
  return result.services.flatMap((group) => group.findings.map((f): [string, string, string] => [f.severity, group.label, f.message]));
}

test('identical tables: ok, one passing group per Service port, nothing else', () => {
  const result = diff([expectedVs(), expectedVs({ protocol: 'UDP', address: '10.96.0.10', port: 53, realServers: [], service: DNS })], [
    actualVs(),
    actualVs({ protocol: 'UDP', address: '10.96.0.10', port: 53, destinations: [] }),
  ]);
  assert.equal(result.ok, true);
  assert.equal(result.failures, 0);
  assert.deepEqual(
    result.services.map((s) => [s.label, s.virtualServers, s.ok, s.findings.length]),
    [
      ['default/web http', 1, true, 0],
      ['kube-system/kube-dns dns', 1, true, 0],
    ],
  );
  assert.deepEqual(result.counts, { expectedVirtualServers: 2, actualVirtualServers: 2, matchedVirtualServers: 2, ignoredVirtualServers: 0 });
  assert.deepEqual(result.notes, []);
});

test('missing virtual server', () => {
  const result = diff([expectedVs({ kind: 'NodePort', address: '172.18.0.2', port: 30080 })], []);
  assert.equal(result.ok, false);
  assert.deepEqual(findings(result), [['failure', 'default/web http', 'missing virtual server TCP/172.18.0.2:30080 (NodePort; rr, 2 real servers)']]);
  const [only] = result.services[0]?.findings ?? [];
  assert.equal(only?.kind, 'missing-virtual-server');
  assert.equal(only?.virtualServer, 'TCP/172.18.0.2:30080');
});

test('unexpected virtual server goes to "(no Service)", after the Service groups', () => {
  const result = diff([expectedVs()], [actualVs(), actualVs({ address: '10.96.0.99', destinations: [destination('10.244.3.3', 80), destination('10.244.3.4', 80)] })]);
  assert.deepEqual(findings(result), [['failure', '(no Service)', 'unexpected virtual server TCP/10.96.0.99:80 (rr, 2 real servers)']]);
  assert.deepEqual(result.services.map((s) => s.label), ['default/web http', '(no Service)']);
  assert.equal(result.services[1]?.service, null);
});

test('scheduler mismatch', () => {
  const result = diff([expectedVs()], [actualVs({ scheduler: 'wrr' })]);
  assert.deepEqual(findings(result), [['failure', 'default/web http', 'scheduler wrr on TCP/10.96.0.20:80, expected rr']]);
  assert.deepEqual(
    [result.services[0]?.findings[0]?.expected, result.services[0]?.findings[0]?.actual],
    ['rr', 'wrr'],
  );
});

test('persistence mismatch: missing, unexpected and a different timeout', () => {
  const result = diff(
    [expectedVs({ persistent: { timeout: 10800 } }), expectedVs({ port: 81 }), expectedVs({ port: 82, persistent: { timeout: 10800 } })],
    [actualVs(), actualVs({ port: 81, persistent: persistence(300) }), actualVs({ port: 82, persistent: persistence(300) })],
  );
  assert.deepEqual(findings(result), [
    ['failure', 'default/web http', 'TCP/10.96.0.20:80 is not persistent, expected persistent 10800 (ClientIP affinity)'],
    ['failure', 'default/web http', 'TCP/10.96.0.20:81 is persistent 300, expected not persistent (no ClientIP affinity)'],
    ['failure', 'default/web http', 'TCP/10.96.0.20:82 is persistent 300, expected persistent 10800'],
  ]);
  assert.ok(result.services[0]?.findings.every((f) => f.kind === 'persistence-mismatch'));
});

test('persistence in jiffies is not compared: a note, not a finding', () => {
  const result = diff([expectedVs({ persistent: { timeout: 10800 } })], [actualVs({ persistent: persistence(2_700_000, 'jiffies') })]);
  assert.equal(result.ok, true);
  assert.deepEqual(findings(result), []);
  assert.deepEqual(result.notes, ['persistence timeouts of 1 virtual server are in jiffies (HZ unknown), so they were not compared: TCP/10.96.0.20:80']);
});

test('missing real server', () => {
  const result = diff([expectedVs()], [actualVs({ destinations: [destination('10.244.2.7', 8080)] })]);
  assert.deepEqual(findings(result), [['failure', 'default/web http', 'missing real server 10.244.1.5:8080 on TCP/10.96.0.20:80']]);
  assert.equal(result.services[0]?.findings[0]?.realServer, '10.244.1.5:8080');
});

test('unexpected real server (weight > 0) fails; at weight 0 it is draining, a warning that keeps ok', () => {
  const failing = diff([expectedVs()], [actualVs({ destinations: [...actualVs().destinations, destination('10.244.9.9', 8080, 1, { activeConns: 2, inactiveConns: 5 })] })]);
  assert.deepEqual(findings(failing), [
    ['failure', 'default/web http', 'unexpected real server 10.244.9.9:8080 (weight 1, 2 active/5 inactive connections) on TCP/10.96.0.20:80'],
  ]);
  const draining = diff([expectedVs()], [actualVs({ destinations: [...actualVs().destinations, destination('10.244.9.9', 8080, 0, { activeConns: 1, inactiveConns: 0 })] })]);
  assert.deepEqual(findings(draining), [
    ['warning', 'default/web http', 'draining real server 10.244.9.9:8080 (weight 0, 1 active/0 inactive connections) on TCP/10.96.0.20:80'],
  ]);
  assert.equal(draining.ok, true);
  assert.equal(draining.warnings, 1);
  assert.equal(draining.services[0]?.ok, true);
  assert.equal(draining.services[0]?.findings[0]?.kind, 'draining-real-server');
});

test('weight mismatch: an expected real server left at weight 0', () => {
  const result = diff([expectedVs()], [actualVs({ destinations: [destination('10.244.1.5', 8080, 0), destination('10.244.2.7', 8080)] })]);
  assert.deepEqual(findings(result), [['failure', 'default/web http', 'real server 10.244.1.5:8080 has weight 0 on TCP/10.96.0.20:80, expected 1']]);
  assert.equal(result.services[0]?.findings[0]?.kind, 'weight-mismatch');
});

test('forwarding other than Masq (or Local, the kernel word for a local destination) is a finding', () => {
  const result = diff([expectedVs()], [actualVs({ destinations: [destination('10.244.1.5', 8080, 1, { forward: 'Route' }), destination('10.244.2.7', 8080, 1, { forward: 'Local' })] })]);
  assert.deepEqual(findings(result), [['failure', 'default/web http', 'real server 10.244.1.5:8080 forwards by Route on TCP/10.96.0.20:80, expected Masq']]);
});

test('excludeCIDRs: unexpected virtual servers inside are left alone (noted); expected ones there are still checked', () => {
  const result = diff(
    [expectedVs({ address: '10.250.0.5' })],
    [actualVs({ address: '10.250.0.5', scheduler: 'wlc' }), actualVs({ address: '10.250.0.9' }), actualVs({ address: '192.0.2.1' })],
    { excludeCidrs: ['10.250.0.0/16'] },
  );
  assert.deepEqual(findings(result), [
    ['failure', 'default/web http', 'scheduler wlc on TCP/10.250.0.5:80, expected rr'],
    ['failure', '(no Service)', 'unexpected virtual server TCP/192.0.2.1:80 (rr, 2 real servers)'],
  ]);
  assert.deepEqual(result.notes, ['1 virtual server inside excludeCIDRs (10.250.0.0/16) left alone, as kube-proxy does: TCP/10.250.0.9:80']);
  assert.equal(result.counts.ignoredVirtualServers, 1);
});

test("kube-proxy's start-up probe 198.51.100.0:20000 is a note, not a finding", () => {
  const result = diff([], [actualVs({ address: '198.51.100.0', port: 20000, destinations: [] })]);
  assert.equal(result.ok, true);
  assert.deepEqual(findings(result), []);
  assert.deepEqual(result.notes, ["TCP/198.51.100.0:20000 is kube-proxy's start-up scheduler probe (normally deleted right after the probe); not a finding"]);
});

test('virtual servers of a family the check does not cover are noted; IPv6 addresses compare in canonical form', () => {
  const v6 = expectedVs({ address: 'fd00:10:96::a', realServers: [{ address: 'fd00:10:244::5', port: 8080, weight: 1 }] });
  const result = diff([v6], [
    actualVs({ address: 'FD00:10:96:0:0:0:0:A', family: 6, destinations: [destination('fd00:10:244:0::5', 8080)] }),
    actualVs({ address: '10.96.0.20' }),
  ], { families: [6] });
  assert.equal(result.ok, true);
  assert.deepEqual(result.notes, ['1 IPv4 virtual server not checked: this check covers IPv6 only: TCP/10.96.0.20:80']);
});

test('columns the table form lacks are not compared, and a note says so', () => {
  const result = diff([expectedVs({ persistent: { timeout: 60 } })], [actualVs({ scheduler: '', persistent: null, destinations: [destination('10.244.1.5', 8080, 0), destination('10.244.2.7', 8080, 0, { forward: '' })] })], {
    table: { format: 'ipvsadm-list', absent: ['scheduler', 'persistence', 'forward', 'weight'] },
  });
  assert.deepEqual(findings(result), []);
  assert.deepEqual(result.notes, ['this ipvsadm-list table does not show scheduler, persistence, weight, forward; those were not compared']);
});

test("the reader's unknown lines and host names are reported as notes", () => {
  const result = diff([], [actualVs({ address: 'web.example.com', destinations: [] })], { table: { unknown: ['FOO bar'] } });
  assert.deepEqual(findings(result), [['failure', '(no Service)', 'unexpected virtual server TCP/web.example.com:80 (rr, 0 real servers)']]);
  assert.deepEqual(result.notes, [
    'the table shows host names instead of addresses (TCP/web.example.com:80); list it with ipvsadm -Ln so it can be compared',
    'the IPVS reader did not understand 1 line: "FOO bar"',
  ]);
});

test('findings stay with their Service port; counts add up', () => {
  const result = diff(
    [expectedVs(), expectedVs({ protocol: 'UDP', address: '10.96.0.10', port: 53, realServers: [{ address: '10.244.0.3', port: 53, weight: 1 }], service: DNS })],
    [actualVs({ scheduler: 'lc' }), actualVs({ protocol: 'UDP', address: '10.96.0.10', port: 53, destinations: [destination('10.244.0.4', 53, 0)] })],
  );
  assert.deepEqual(findings(result), [
    ['failure', 'default/web http', 'scheduler lc on TCP/10.96.0.20:80, expected rr'],
    ['failure', 'kube-system/kube-dns dns', 'missing real server 10.244.0.3:53 on UDP/10.96.0.10:53'],
    ['warning', 'kube-system/kube-dns dns', 'draining real server 10.244.0.4:53 (weight 0, 0 active/0 inactive connections) on UDP/10.96.0.10:53'],
  ]);
  assert.deepEqual([result.failures, result.warnings, result.ok], [2, 1, false]);
});

test('checkNodeIpvs: cluster objects in, expectation and diff out', () => {
  const cluster = readClusterValue({
    kind: 'List',
    items: [
      { kind: 'Service', metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } },
      {
        kind: 'EndpointSlice',
        metadata: { namespace: 'default', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: ['10.244.1.5'] }, { addresses: ['10.244.2.7'] }],
      },
    ],
  });
  const check = checkNodeIpvs({
    cluster,
    table: ipvsTable([actualVs({ destinations: [destination('10.244.1.5', 8080)] })]),
    node: { name: 'kind-worker', addresses: ['172.18.0.2'], nodePortAddresses: [], scheduler: 'rr' },
    families: [4],
    excludeCidrs: [],
  });
  assert.equal(check.node, 'kind-worker');
  assert.deepEqual(check.expected.kubeIpvs0Addresses, ['10.96.0.20']);
  assert.deepEqual(findings(check.diff), [['failure', 'default/web http', 'missing real server 10.244.2.7:8080 on TCP/10.96.0.20:80']]);
});

test('many real servers on one virtual server (past the scan limit): the same findings, in the table order, the last entry of a repeated one counting', () => {
  for (const count of [3, 40]) {
    const wanted = Array.from({ length: count }, (_, i) => ({ address: `10.244.0.${i + 1}`, port: 8080, weight: 1 }));
    // The table: the first wanted one missing, one nobody wants, the second one listed twice (its last entry draining).
    const listed = [
      destination('10.244.9.9', 8080, 1),
      ...wanted.slice(1).map((rs) => destination(rs.address, rs.port)),
      destination('10.244.0.2', 8080, 0),
    ];
    const diff = diffIpvsState(state([expectedVs({ realServers: wanted })]), ipvsTable([actualVs({ destinations: listed })]), { excludeCidrs: [] });
    const findings = diff.services.flatMap((s) => s.findings).map((f) => `${f.kind} ${f.realServer ?? ''}`);
    assert.deepEqual(findings, ['missing-real-server 10.244.0.1:8080', 'weight-mismatch 10.244.0.2:8080', 'unexpected-real-server 10.244.9.9:8080'], `${count} real servers`);
  }
});
