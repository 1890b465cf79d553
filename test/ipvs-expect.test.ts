// expectIpvsState on Service shapes the shared vectors do not carry: kube-proxy
// unit tests V13-V18 (TestOnlyLocalExternalIPs, TestSessionAffinity,
// TestTestInternalTrafficPolicyE2E, Test_EndpointSlice*Terminating*,
// TestLoadBalancerIngressRouteTypeProxy), V20 (derived from syncEndpoint) and the
// rules of docs/kube-proxy-ipvs.md §3 (NodePort addresses, kube-ipvs0, families...).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_AFFINITY_TIMEOUT_SECONDS, expectIpvsState, expectIpvsStateForFamilies, expandNodePortAddresses } from '../src/ipvs/expect.js';
import type { ExpectNode, ExpectedIpvsState } from '../src/ipvs/expect.js';
import { virtualServerKey } from '../src/ipvs/model.js';
import { readClusterValue } from '../src/kube/read.js';
import { parseKubeVersion } from '../src/config/kube-version.js';

type Json = Record<string, unknown>;

const HOST = 'test-hostname';

function service(name: string, spec: Json, status?: Json): Json {
  return { kind: 'Service', metadata: { namespace: 'ns1', name }, spec: { type: 'ClusterIP', ...spec }, ...(status === undefined ? {} : { status }) };
}

function slice(serviceName: string, endpoints: Json[], ports: Json[] = [{ name: '', port: 80, protocol: 'TCP' }], addressType = 'IPv4', name = `${serviceName}-1`): Json {
  return {
    kind: 'EndpointSlice',
    metadata: { namespace: 'ns1', name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ports,
    endpoints,
  };
}

function endpoint(ip: string, nodeName?: string, conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }): Json {
  return { addresses: [ip], ...(nodeName === undefined ? {} : { nodeName }), ...(conditions === undefined ? {} : { conditions }) };
}

function expectFor(items: Json[], node: Partial<ExpectNode> = {}): ExpectedIpvsState {
  return expectIpvsState(readClusterValue({ kind: 'List', items }), {
    name: HOST,
    addresses: [],
    nodePortAddresses: [],
    scheduler: 'rr',
    family: 4,
    ...node,
  });
}

/** "KEY -> rs1,rs2" for every virtual server, in key order: the whole table at a glance. */
function table(state: ExpectedIpvsState): string[] {
  return state.virtualServers
    .map((vs) => `${virtualServerKey(vs)} -> ${vs.realServers.map((rs) => `${rs.address}:${rs.port}`).join(',')}`)
    .sort();
}

const V13_V17_PORT = [{ name: '', port: 80, protocol: 'TCP' }];

test('V13 TestOnlyLocalExternalIPs: IPv6 externalIP dropped, 127.0.0.1 kept and bound, ETP Local gives local endpoints', () => {
  const state = expectFor([
    service('svc1', {
      type: 'NodePort',
      clusterIP: '10.20.30.41',
      externalIPs: ['50.60.70.81', '2012::51', '127.0.0.1'],
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
    }),
    slice('svc1', [endpoint('10.180.0.1', HOST), endpoint('10.180.1.1', 'other-hostname')], [{ name: 'p80', port: 80, protocol: 'TCP' }]),
  ]);
  assert.deepEqual(table(state), [
    'TCP/10.20.30.41:80 -> 10.180.0.1:80,10.180.1.1:80',
    'TCP/127.0.0.1:80 -> 10.180.0.1:80',
    'TCP/50.60.70.81:80 -> 10.180.0.1:80',
  ]);
  // Loopback never counts as a node address, so kube-proxy binds 127.0.0.1 to kube-ipvs0 too.
  assert.deepEqual(state.kubeIpvs0Addresses, ['10.20.30.41', '50.60.70.81', '127.0.0.1']);
  assert.deepEqual(state.virtualServers.map((vs) => vs.kind), ['ClusterIP', 'ExternalIP', 'ExternalIP']);
});

test('V14 TestSessionAffinity: ClientIP affinity makes every virtual server of the Service persistent (default 10800 s)', () => {
  const state = expectFor(
    [
      service(
        'svc1',
        {
          type: 'LoadBalancer',
          clusterIP: '10.20.30.41',
          externalIPs: ['50.60.70.81'],
          sessionAffinity: 'ClientIP',
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
      ),
    ],
    { addresses: ['100.101.102.103'] },
  );
  assert.equal(DEFAULT_AFFINITY_TIMEOUT_SECONDS, 10800);
  assert.deepEqual(
    state.virtualServers.map((vs) => [vs.kind, vs.persistent]),
    [
      ['ClusterIP', { timeout: 10800 }],
      ['ExternalIP', { timeout: 10800 }],
      ['LoadBalancer', { timeout: 10800 }],
      ['NodePort', { timeout: 10800 }],
    ],
  );
  const explicit = expectFor([
    service('svc1', {
      clusterIP: '10.20.30.41',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
      ports: V13_V17_PORT,
    }),
  ]);
  assert.deepEqual(explicit.virtualServers[0]?.persistent, { timeout: 300 });
  const none = expectFor([service('svc1', { clusterIP: '10.20.30.41', sessionAffinity: 'None', ports: V13_V17_PORT })]);
  assert.equal(none.virtualServers[0]?.persistent, null);
});

test('V15 TestTestInternalTrafficPolicyE2E: ITP Cluster uses every endpoint, ITP Local only local ones, or none', () => {
  const endpoints = (localFirst: boolean) => [
    endpoint('10.0.1.1', localFirst ? HOST : 'host0'),
    endpoint('10.0.1.2', 'host1'),
    endpoint('10.0.1.3', 'host2'),
  ];
  const run = (itp: string, localFirst: boolean): string[] =>
    table(expectFor([service('svc1', { clusterIP: '172.20.1.1', internalTrafficPolicy: itp, ports: V13_V17_PORT }), slice('svc1', endpoints(localFirst))]));
  assert.deepEqual(run('Cluster', true), ['TCP/172.20.1.1:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.3:80']);
  assert.deepEqual(run('Cluster', false), ['TCP/172.20.1.1:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.3:80']);
  assert.deepEqual(run('Local', true), ['TCP/172.20.1.1:80 -> 10.0.1.1:80']);
  // No local endpoint and not externally reachable: the VS stays, with no real servers.
  assert.deepEqual(run('Local', false), ['TCP/172.20.1.1:80 -> ']);
});

test('V15 port-0 quirk: the upstream test Service sets no port, so kube-proxy programs port 0; the reader accepts it', () => {
  // NOTE: the real API rejects port 0; kube-proxy itself programs whatever it is given.
  const state = expectFor([
    service('svc1', { clusterIP: '172.20.1.1', internalTrafficPolicy: 'Local', ports: [{ name: '', port: 0, protocol: 'TCP' }] }),
    slice('svc1', [endpoint('10.0.1.1', HOST)]),
  ]);
  assert.deepEqual(table(state), ['TCP/172.20.1.1:0 -> 10.0.1.1:80']);
});

test('ITP Local on an externally reachable Service falls back to cluster endpoints (UsesClusterEndpoints, PR #97081)', () => {
  const state = expectFor(
    [
      service('svc1', { type: 'NodePort', clusterIP: '172.20.1.1', internalTrafficPolicy: 'Local', ports: [{ name: '', port: 80, protocol: 'TCP', nodePort: 30080 }] }),
      slice('svc1', [endpoint('10.0.1.2', 'host1'), endpoint('10.0.1.3', 'host2')]),
    ],
    { addresses: ['192.168.1.10'] },
  );
  assert.deepEqual(table(state), ['TCP/172.20.1.1:80 -> 10.0.1.2:80,10.0.1.3:80', 'TCP/192.168.1.10:30080 -> 10.0.1.2:80,10.0.1.3:80']);
});

const TERMINATING_ENDPOINTS = (ready: boolean) => [
  endpoint('10.0.1.1', HOST, { ready, serving: true, terminating: !ready }),
  endpoint('10.0.1.2', HOST, { ready, serving: true, terminating: !ready }),
  endpoint('10.0.1.3', HOST, { ready: false, serving: ready ? true : false, terminating: true }),
  endpoint('10.0.1.4', ready ? HOST : 'another-host', ready ? { ready: false, serving: false, terminating: true } : { ready: false, serving: true, terminating: true }),
];

function terminatingCase(etp: 'Cluster' | 'Local', ready: boolean, fifth: { ready: boolean; serving: boolean; terminating: boolean }): string[] {
  return table(
    expectFor([
      service('svc1', {
        type: 'NodePort',
        clusterIP: '172.20.1.1',
        externalTrafficPolicy: etp,
        internalTrafficPolicy: 'Cluster',
        externalIPs: ['1.2.3.4'],
        ports: V13_V17_PORT,
      }),
      slice('svc1', [...TERMINATING_ENDPOINTS(ready), endpoint('10.0.1.5', 'another-host', fifth)]),
    ]),
  );
}

test('V16 Test_EndpointSliceReadyAndTerminatingCluster: only ready endpoints when any is ready', () => {
  assert.deepEqual(terminatingCase('Cluster', true, { ready: true, serving: true, terminating: false }), [
    'TCP/1.2.3.4:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.5:80',
    'TCP/172.20.1.1:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.5:80',
  ]);
});

test('V16 Local variant: the ETP Local externalIP gets the local ready endpoints only', () => {
  assert.deepEqual(terminatingCase('Local', true, { ready: true, serving: true, terminating: false }), [
    'TCP/1.2.3.4:80 -> 10.0.1.1:80,10.0.1.2:80',
    'TCP/172.20.1.1:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.5:80',
  ]);
});

test('V17 Test_EndpointSliceOnlyReadyAndTerminatingCluster: falls back to serving+terminating endpoints (weight 1)', () => {
  const state = expectFor([
    service('svc1', { type: 'NodePort', clusterIP: '172.20.1.1', externalTrafficPolicy: 'Cluster', externalIPs: ['1.2.3.4'], ports: V13_V17_PORT }),
    slice('svc1', [...TERMINATING_ENDPOINTS(false), endpoint('10.0.1.5', 'another-host', { ready: false, serving: false, terminating: false })]),
  ]);
  assert.deepEqual(table(state), ['TCP/1.2.3.4:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.4:80', 'TCP/172.20.1.1:80 -> 10.0.1.1:80,10.0.1.2:80,10.0.1.4:80']);
  assert.ok(state.virtualServers.every((vs) => vs.realServers.every((rs) => rs.weight === 1)));
});

test('V17 Local variant: ClusterIP keeps the ready remote endpoint, the ETP Local externalIP falls back to local serving+terminating', () => {
  assert.deepEqual(terminatingCase('Local', false, { ready: true, serving: true, terminating: false }), [
    'TCP/1.2.3.4:80 -> 10.0.1.1:80,10.0.1.2:80',
    'TCP/172.20.1.1:80 -> 10.0.1.5:80',
  ]);
});

test('V18 TestLoadBalancerIngressRouteTypeProxy: ipMode Proxy gets no virtual server and no kube-ipvs0 address', () => {
  const run = (ipMode: string | undefined): ExpectedIpvsState =>
    expectFor([
      service(
        'svc1',
        { type: 'LoadBalancer', clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] },
        { loadBalancer: { ingress: [{ ip: '1.2.3.4', ...(ipMode === undefined ? {} : { ipMode }) }] } },
      ),
      slice('svc1', [endpoint('10.180.0.1')], [{ name: 'p80', port: 80, protocol: 'TCP' }]),
    ]);
  assert.equal(run('Proxy').virtualServers.length, 1);
  assert.deepEqual(run('Proxy').kubeIpvs0Addresses, ['10.20.30.41']);
  assert.equal(run('VIP').virtualServers.length, 2);
  assert.equal(run(undefined).virtualServers.length, 2);
  assert.deepEqual(run(undefined).kubeIpvs0Addresses, ['1.2.3.4', '10.20.30.41']);
});

test('V20 (derived): ETP Local with no local endpoint serves the NodePort from all cluster endpoints', () => {
  const state = expectFor(
    [
      service('svc1', { type: 'NodePort', clusterIP: '10.20.30.41', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }),
      slice('svc1', [endpoint('10.180.1.1', 'other-1'), endpoint('10.180.2.1', 'other-2')], [{ name: 'p80', port: 80, protocol: 'TCP' }]),
    ],
    { addresses: ['100.101.102.103'] },
  );
  assert.deepEqual(table(state), ['TCP/10.20.30.41:80 -> 10.180.1.1:80,10.180.2.1:80', 'TCP/100.101.102.103:3001 -> 10.180.1.1:80,10.180.2.1:80']);
});

const NODEPORT_SERVICE = service('np', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });

function nodePortAddresses(node: Partial<ExpectNode>, items: Json[] = [NODEPORT_SERVICE]): string[] {
  return expectFor(items, node)
    .virtualServers.filter((vs) => vs.kind === 'NodePort')
    .map((vs) => vs.address);
}

test('§3.3 NodePorts: every node address of the family except loopback and IPv6 link-local', () => {
  const addresses = ['127.0.0.1', '172.18.0.2', '10.244.0.1', 'fe80::1', 'fd00::2', '::1'];
  assert.deepEqual(nodePortAddresses({ addresses }), ['10.244.0.1', '172.18.0.2']);
  assert.deepEqual(nodePortAddresses({ addresses, family: 6 }, [service('np6', { type: 'NodePort', clusterIP: 'fd00:96::20', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] })]), ['fd00::2']);
});

test('§3.3 --nodeport-addresses: matching CIDRs only; /0 or only other-family CIDRs mean every address', () => {
  const addresses = ['127.0.0.1', '172.18.0.2', '10.244.0.1'];
  assert.deepEqual(nodePortAddresses({ addresses, nodePortAddresses: ['172.18.0.0/16'] }), ['172.18.0.2']);
  // Loopback is removed even when a CIDR covers it (127.0.0.1 NodePorts never work in IPVS mode).
  assert.deepEqual(nodePortAddresses({ addresses, nodePortAddresses: ['127.0.0.0/8', '10.244.0.0/24'] }), ['10.244.0.1']);
  assert.deepEqual(nodePortAddresses({ addresses, nodePortAddresses: ['0.0.0.0/0', '172.18.0.0/16'] }), ['10.244.0.1', '172.18.0.2']);
  assert.deepEqual(nodePortAddresses({ addresses, nodePortAddresses: ['fd00::/64'] }), ['10.244.0.1', '172.18.0.2']);
  // A CIDR that matches nothing leaves no NodePort virtual server (V10's rule).
  assert.deepEqual(nodePortAddresses({ addresses, nodePortAddresses: ['192.0.2.0/24'] }), []);
});

test('§3.3 (derived) a --nodeport-addresses CIDR that covers kube-ipvs0 addresses also yields NodePorts on them', () => {
  assert.deepEqual(nodePortAddresses({ addresses: ['172.18.0.2'], nodePortAddresses: ['10.96.0.0/16'] }), ['10.96.0.20']);
});

test('§3.4 an externalIP that is already a node address gets its VS but is not bound to kube-ipvs0', () => {
  const state = expectFor([service('ext', { clusterIP: '10.96.0.30', externalIPs: ['172.18.0.2', '198.51.100.7'], ports: V13_V17_PORT })], {
    addresses: ['172.18.0.2'],
  });
  assert.deepEqual(table(state), ['TCP/10.96.0.30:80 -> ', 'TCP/172.18.0.2:80 -> ', 'TCP/198.51.100.7:80 -> ']);
  assert.deepEqual(state.kubeIpvs0Addresses, ['10.96.0.30', '198.51.100.7']);
});

test('§3.7 dual-stack: each family takes its clusterIPs entry by ipFamilies index; both families merge', () => {
  const items = [
    service('dual', { clusterIP: 'fd00:96::a', clusterIPs: ['fd00:96::a', '10.96.0.10'], ipFamilies: ['IPv6', 'IPv4'], ports: V13_V17_PORT }),
    slice('dual', [endpoint('10.244.1.5')], V13_V17_PORT, 'IPv4', 'dual-v4'),
    slice('dual', [endpoint('fd00:244::1:5')], V13_V17_PORT, 'IPv6', 'dual-v6'),
  ];
  assert.deepEqual(table(expectFor(items)), ['TCP/10.96.0.10:80 -> 10.244.1.5:80']);
  assert.deepEqual(table(expectFor(items, { family: 6 })), ['TCP/[fd00:96::a]:80 -> fd00:244::1:5:80']);
  const both = expectIpvsStateForFamilies(readClusterValue(items), { name: HOST, addresses: [], nodePortAddresses: [], scheduler: 'rr' }, [4, 6]);
  assert.deepEqual(both.families, [4, 6]);
  assert.deepEqual(table(both), ['TCP/10.96.0.10:80 -> 10.244.1.5:80', 'TCP/[fd00:96::a]:80 -> fd00:244::1:5:80']);
  assert.deepEqual(both.kubeIpvs0Addresses, ['10.96.0.10', 'fd00:96::a']);
});

test('EndpointSlices: first address only, this family only, FQDN and unlabeled slices and unnamed-field ports ignored (with notes)', () => {
  const state = expectFor([
    service('web', { clusterIP: '10.96.0.40', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    slice('web', [{ addresses: ['10.244.1.1', '10.244.9.9'] }, endpoint('fd00::1')], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
    slice('web', [endpoint('10.244.2.2')], [{ name: 'http', port: 8080, protocol: 'UDP' }], 'IPv4', 'web-udp'),
    slice('web', [{ addresses: ['web.example.'] }], [{ name: 'http', port: 8080, protocol: 'TCP' }], 'FQDN', 'web-fqdn'),
    slice('web', [endpoint('10.244.3.3')], [{ port: 53, protocol: 'UDP' }], 'IPv4', 'web-noname'),
    { kind: 'EndpointSlice', metadata: { namespace: 'ns1', name: 'orphan' }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [endpoint('10.244.4.4')] },
  ]);
  assert.deepEqual(table(state), ['TCP/10.96.0.40:80 -> 10.244.1.1:8080', 'UDP/10.96.0.40:53 -> ']);
  assert.deepEqual(state.kubeIpvs0Addresses, ['10.96.0.40']);
  assert.deepEqual(state.notes, [
    'EndpointSlice ns1/web-noname has a port without a "name" field; kube-proxy ignores that port',
    'EndpointSlice ns1/orphan has no kubernetes.io/service-name label; kube-proxy ignores it',
  ]);
});

test('an endpoint listed in two slices counts once, as local when either copy is local', () => {
  const state = expectFor([
    service('dup', { type: 'NodePort', clusterIP: '10.96.0.50', externalTrafficPolicy: 'Local', ports: [{ name: '', port: 80, protocol: 'TCP', nodePort: 30050 }] }),
    slice('dup', [endpoint('10.244.1.1', 'other'), endpoint('10.244.1.2', 'other')], V13_V17_PORT, 'IPv4', 'dup-a'),
    slice('dup', [endpoint('10.244.1.1', HOST)], V13_V17_PORT, 'IPv4', 'dup-b'),
  ], { addresses: ['172.18.0.2'] });
  assert.deepEqual(table(state), ['TCP/10.96.0.50:80 -> 10.244.1.1:80,10.244.1.2:80', 'TCP/172.18.0.2:30050 -> 10.244.1.1:80']);
});

test('headless (None in clusterIP or clusterIPs), ExternalName and ClusterIP-less Services get nothing', () => {
  const state = expectFor([
    service('headless', { clusterIP: 'None', clusterIPs: ['None'], ports: V13_V17_PORT }),
    service('ext', { type: 'ExternalName', externalName: 'example.com', ports: V13_V17_PORT }),
    service('unset', { ports: V13_V17_PORT }),
    service('no-ips', { clusterIP: '10.96.0.80', ipFamilies: ['IPv4'], ports: V13_V17_PORT }),
    slice('headless', [endpoint('10.244.1.1')]),
  ]);
  assert.deepEqual(state.virtualServers, []);
  assert.deepEqual(state.kubeIpvs0Addresses, []);
  // GetClusterIPByFamily reads clusterIPs when ipFamilies is set; the apiserver always fills both.
  assert.deepEqual(state.notes, ['ns1/no-ips lists ipFamilies but no clusterIPs; kube-proxy takes its ClusterIP from clusterIPs, so it programs nothing']);
});

test('multi-port Services get one VS per port and one kube-ipvs0 address; the scheduler is the configured one', () => {
  const state = expectFor(
    [
      service('multi', {
        clusterIP: '172.16.55.4',
        ports: [
          { name: 'port1', port: 1234, protocol: 'TCP' },
          { name: 'port2', port: 1235, protocol: 'TCP' },
          { name: 'port3', port: 1236, protocol: 'UDP' },
        ],
      }),
    ],
    { scheduler: 'mh' },
  );
  assert.deepEqual(table(state), ['TCP/172.16.55.4:1234 -> ', 'TCP/172.16.55.4:1235 -> ', 'UDP/172.16.55.4:1236 -> ']);
  assert.deepEqual(state.kubeIpvs0Addresses, ['172.16.55.4']);
  assert.ok(state.virtualServers.every((vs) => vs.scheduler === 'mh'));
  assert.deepEqual(state.virtualServers.map((vs) => vs.service.portName), ['port1', 'port2', 'port3']);
});

test('two Services claiming one virtual server: the first is expected and a note names both', () => {
  const state = expectFor([
    service('a', { clusterIP: '10.96.0.61', externalIPs: ['192.0.2.10'], ports: V13_V17_PORT }),
    service('b', { clusterIP: '10.96.0.62', externalIPs: ['192.0.2.10'], ports: V13_V17_PORT }),
  ]);
  assert.equal(state.virtualServers.filter((vs) => vs.address === '192.0.2.10').length, 1);
  assert.deepEqual(state.notes, [
    'TCP/192.0.2.10:80 is claimed by ns1/a (ExternalIP) and ns1/b (ExternalIP); kube-proxy keeps whichever it syncs last, this check expects the first',
  ]);
});

// Topology (pkg/proxy/topology.go CategorizeEndpoints; v1.29.15 canUseTopology, v1.34.11
// topologyModeFromHints): hints apply only when every READY endpoint has one and one names this
// node (forNodes, from 1.34) or its zone; before 1.31 zone hints also need the hints annotation.
// Seen on real kube-proxy by the oracle cases topology-*.
const V = (text: string) => parseKubeVersion(text) ?? assert.fail(text);
const zoned = (ip: string, zone: string, extra: Json = {}): Json => ({ addresses: [ip], conditions: { ready: true }, hints: { forZones: [{ name: zone }] }, ...extra });
function topologyCluster(annotations: Json | null, spec: Json, endpoints: Json[]): Json[] {
  const svc = service('topo', { clusterIP: '10.96.0.70', ports: V13_V17_PORT, ...spec });
  return [annotations === null ? svc : { ...svc, metadata: { namespace: 'ns1', name: 'topo', annotations } }, slice('topo', endpoints)];
}
const ZONE_ENDPOINTS = [zoned('10.244.1.1', 'zone-a'), zoned('10.244.2.1', 'zone-a'), zoned('10.244.3.1', 'zone-b')];

test('zone hints: only the endpoints hinted for the node\'s zone, whenever every ready endpoint has a hint (1.31+)', () => {
  const items = topologyCluster(null, { trafficDistribution: 'PreferClose' }, ZONE_ENDPOINTS);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-a' })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80']);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-a', kubeVersion: V('1.34.11') })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80']);
  // Hints without trafficDistribution or annotation count too from 1.31.
  const bare = topologyCluster(null, {}, ZONE_ENDPOINTS);
  assert.deepEqual(table(expectFor(bare, { zone: 'zone-a', kubeVersion: V('1.31.0') })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80']);
  // A node without a zone label, or hints for other zones only: every ready endpoint.
  const all = ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80,10.244.3.1:80'];
  assert.deepEqual(table(expectFor(items)), all);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-c' })), all);
});

test('zone hints before 1.31 need the hints annotation; the deprecated key wins when both are set', () => {
  const all = ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80,10.244.3.1:80'];
  const zoneA = ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80'];
  const node = { zone: 'zone-a', kubeVersion: V('1.29.15') };
  assert.deepEqual(table(expectFor(topologyCluster(null, { trafficDistribution: 'PreferClose' }, ZONE_ENDPOINTS), node)), all);
  assert.deepEqual(table(expectFor(topologyCluster({ 'service.kubernetes.io/topology-mode': 'Auto' }, {}, ZONE_ENDPOINTS), node)), zoneA);
  assert.deepEqual(table(expectFor(topologyCluster({ 'service.kubernetes.io/topology-aware-hints': 'auto' }, {}, ZONE_ENDPOINTS), node)), zoneA);
  const both = { 'service.kubernetes.io/topology-aware-hints': 'disabled', 'service.kubernetes.io/topology-mode': 'Auto' };
  assert.deepEqual(table(expectFor(topologyCluster(both, {}, ZONE_ENDPOINTS), node)), all);
  assert.deepEqual(table(expectFor(topologyCluster({ 'service.kubernetes.io/topology-mode': 'Disabled' }, {}, ZONE_ENDPOINTS), node)), all);
  assert.deepEqual(table(expectFor(topologyCluster({ 'service.kubernetes.io/topology-mode': 'Auto' }, {}, ZONE_ENDPOINTS), { ...node, kubeVersion: V('1.30.0') })), zoneA);
});

test('a ready endpoint without a hint turns hints off; a non-ready one does not', () => {
  const missing = [zoned('10.244.1.1', 'zone-a'), { addresses: ['10.244.2.1'], conditions: { ready: true } }];
  assert.deepEqual(table(expectFor(topologyCluster(null, { trafficDistribution: 'PreferClose' }, missing), { zone: 'zone-a' })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80']);
  const notReady = [zoned('10.244.1.1', 'zone-a'), zoned('10.244.3.1', 'zone-b'), { addresses: ['10.244.2.1'], conditions: { ready: false } }];
  assert.deepEqual(table(expectFor(topologyCluster(null, { trafficDistribution: 'PreferClose' }, notReady), { zone: 'zone-a' })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80']);
});

test('node hints (1.34+) win over zone hints; earlier releases ignore them', () => {
  const endpoints = [
    zoned('10.244.1.1', 'zone-a', { hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: HOST }] } }),
    zoned('10.244.2.1', 'zone-a', { hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'other' }] } }),
    zoned('10.244.3.1', 'zone-b', { hints: { forZones: [{ name: 'zone-b' }], forNodes: [{ name: 'third' }] } }),
  ];
  const items = topologyCluster(null, { trafficDistribution: 'PreferSameNode' }, endpoints);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-a', kubeVersion: V('1.34.0') })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80']);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-a', kubeVersion: V('1.33.5') })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.2.1:80']);
});

test('the serving-terminating fallback and Local endpoints ignore topology', () => {
  const term = (ip: string, zone: string, nodeName: string): Json => ({ ...zoned(ip, zone), nodeName, conditions: { ready: false, serving: true, terminating: true } });
  const items = topologyCluster(null, { trafficDistribution: 'PreferClose' }, [term('10.244.1.1', 'zone-a', HOST), term('10.244.3.1', 'zone-b', 'third')]);
  assert.deepEqual(table(expectFor(items, { zone: 'zone-a' })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80,10.244.3.1:80']);
  const local = topologyCluster(null, { internalTrafficPolicy: 'Local', trafficDistribution: 'PreferClose' }, [zoned('10.244.1.1', 'zone-b', { nodeName: HOST }), zoned('10.244.2.1', 'zone-a')]);
  assert.deepEqual(table(expectFor(local, { zone: 'zone-a' })), ['TCP/10.96.0.70:80 -> 10.244.1.1:80']);
});

test('an IPv4-mapped IPv6 address in an IPv4 slice is programmed as IPv4 (Go prints it so), and deduplicates with it', () => {
  const items = [
    service('mapped', { clusterIP: '10.96.0.71', ports: V13_V17_PORT }),
    slice('mapped', [endpoint('::ffff:10.244.2.45'), endpoint('10.244.3.45'), endpoint('::ffff:af4:32d')]),
  ];
  assert.deepEqual(table(expectFor(items)), ['TCP/10.96.0.71:80 -> 10.244.2.45:80,10.244.3.45:80']);
  assert.deepEqual(table(expectFor(items, { family: 6 })), []);
});

// nodePortAddresses "primary": cmd/kube-proxy/app/server.go (v1.34.11) turns it into the node's primary
// IP of each family as <ip>/32 and <ip>/128 (loopback skipped), and NewNodePortAddresses
// (pkg/proxy/util/nodeport_addresses.go) gives a family without a CIDR the zero CIDR: every address.
test('nodePortAddresses primary: NodePorts only on the primary IP of the family; a family without one serves every address', () => {
  const items = [
    service('np', { type: 'NodePort', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00:96::5'], ports: [{ name: '', port: 80, nodePort: 30080, protocol: 'TCP' }] }),
  ];
  const addresses = ['192.168.50.10', '192.168.60.10', 'fd00:50::10', 'fd00:60::10', 'fe80::1', '::1', '127.0.0.1'];
  const nodePorts = (state: ExpectedIpvsState): string[] => state.virtualServers.filter((vs) => vs.kind === 'NodePort').map((vs) => virtualServerKey(vs));
  const both = expectIpvsStateForFamilies(readClusterValue({ kind: 'List', items }), { name: HOST, addresses, nodePortAddresses: ['primary'], primaryAddresses: ['192.168.50.10', 'fd00:50::10'], scheduler: 'rr' }, [4, 6]);
  assert.deepEqual(nodePorts(both), ['TCP/192.168.50.10:30080', 'TCP/[fd00:50::10]:30080']);
  // Only an IPv4 InternalIP: the IPv6 proxier gets no CIDR, so every global IPv6 address (not ::1, not link-local).
  const v4only = expectIpvsStateForFamilies(readClusterValue({ kind: 'List', items }), { name: HOST, addresses, nodePortAddresses: ['primary'], primaryAddresses: ['192.168.50.10'], scheduler: 'rr' }, [4, 6]);
  assert.deepEqual(nodePorts(v4only), ['TCP/192.168.50.10:30080', 'TCP/[fd00:50::10]:30080', 'TCP/[fd00:60::10]:30080']);
  // A CIDR of one family matching nothing: no NodePort of that family; the other family matches everything.
  const none = expectIpvsStateForFamilies(readClusterValue({ kind: 'List', items }), { name: HOST, addresses, nodePortAddresses: ['203.0.113.0/24'], scheduler: 'rr' }, [4, 6]);
  assert.deepEqual(nodePorts(none), ['TCP/[fd00:50::10]:30080', 'TCP/[fd00:60::10]:30080']);
});

// kube-proxy 1.37's keywords (cmd/kube-proxy/app/server.go expandNodePortAddressKeywords, v1.37.2): "localhost"
// is 127.0.0.0/8 and ::1/128, "all" the zero CIDRs; IPVS never puts a NodePort on a loopback address
// (pkg/proxy/ipvs/netlink_linux.go isValidForSet), so "localhost" alone gives no NodePort virtual server.
test('nodePortAddresses keywords localhost and all (1.37): loopback only gives none, all gives every address, primary,localhost the primary IPs', () => {
  const items = [
    service('np', { type: 'NodePort', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00:96::5'], ports: [{ name: '', port: 80, nodePort: 30080, protocol: 'TCP' }] }),
  ];
  const addresses = ['192.168.50.10', '192.168.60.10', 'fd00:50::10', 'fe80::1', '::1', '127.0.0.1'];
  const nodePorts = (nodePortAddresses: string[]): string[] =>
    expectIpvsStateForFamilies(readClusterValue({ kind: 'List', items }), { name: HOST, addresses, nodePortAddresses, primaryAddresses: ['192.168.50.10', 'fd00:50::10'], scheduler: 'rr' }, [4, 6])
      .virtualServers.filter((vs) => vs.kind === 'NodePort').map((vs) => virtualServerKey(vs));
  assert.deepEqual(nodePorts(['localhost']), []);
  assert.deepEqual(nodePorts(['all']), ['TCP/192.168.50.10:30080', 'TCP/192.168.60.10:30080', 'TCP/[fd00:50::10]:30080']);
  assert.deepEqual(nodePorts(['primary', 'localhost']), ['TCP/192.168.50.10:30080', 'TCP/[fd00:50::10]:30080']);
  assert.deepEqual(expandNodePortAddresses({ nodePortAddresses: ['localhost', '10.0.0.0/8', 'all'] }), ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '0.0.0.0/0', '::/0']);
});
