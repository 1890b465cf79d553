// Reading Services and EndpointSlices from Kubernetes JSON: accepted shapes,
// API defaults, and usage errors that name the file and the JSON path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitCode, LocalUpError } from '../src/errors.js';
import { readClusterDocuments, readClusterJson, readClusterValue } from '../src/kube/read.js';

const SERVICE = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'web' },
  spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
};
const SLICE = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'default', name: 'web-abc12', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'kind-worker' }],
};

function usageFailure(fn: () => unknown): LocalUpError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof LocalUpError, `expected a LocalUpError, got ${String(error)}`);
    assert.equal(error.exitCode, ExitCode.usage);
    return error;
  }
  assert.fail('expected a usage error');
}

test('reads a kubectl List of Services and EndpointSlices, with API defaults applied', () => {
  const cluster = readClusterJson(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [SERVICE, SLICE] }), 'cluster.json');
  assert.deepEqual(cluster.services, [
    {
      namespace: 'default',
      name: 'web',
      type: 'ClusterIP',
      clusterIP: '10.96.0.20',
      clusterIPs: ['10.96.0.20'],
      ipFamilies: [],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 0 }],
      externalIPs: [],
      loadBalancerIngress: [],
      sessionAffinity: 'None',
      affinityTimeoutSeconds: null,
      externalTrafficPolicy: null,
      internalTrafficPolicy: null,
      topologyHint: null,
      hintsAnnotation: null,
    },
  ]);
  assert.deepEqual(cluster.endpointSlices, [
    {
      namespace: 'default',
      name: 'web-abc12',
      serviceName: 'web',
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.5'], ready: true, serving: true, terminating: false, nodeName: 'kind-worker', hasZoneHints: false, zoneHints: [], nodeHints: [] }],
    },
  ]);
  assert.deepEqual(cluster.ignoredKinds, {});
});

test('nil endpoint conditions read as kube-proxy reads them: ready and serving true, terminating false', () => {
  const slice = {
    ...SLICE,
    endpoints: [
      { addresses: ['10.244.1.5'] },
      { addresses: ['10.244.1.6'], conditions: { ready: null, serving: false, terminating: true } },
    ],
  };
  const [first, second] = readClusterValue([slice]).endpointSlices[0]?.endpoints ?? [];
  assert.deepEqual([first?.ready, first?.serving, first?.terminating], [true, true, false]);
  assert.deepEqual([second?.ready, second?.serving, second?.terminating], [true, false, true]);
});

test('accepts a bare array, an array of Lists, one object, and API lists whose items carry no kind', () => {
  assert.equal(readClusterValue([SERVICE, SLICE]).services.length, 1);
  const nested = readClusterValue([{ kind: 'List', items: [SERVICE] }, { kind: 'List', items: [SLICE] }]);
  assert.equal(nested.services.length + nested.endpointSlices.length, 2);
  assert.equal(readClusterValue(SERVICE).services[0]?.name, 'web');
  const { kind: _s, ...bareService } = SERVICE;
  const { kind: _e, ...bareSlice } = SLICE;
  const fromApi = readClusterValue([{ kind: 'ServiceList', items: [bareService] }, { kind: 'EndpointSliceList', items: [bareSlice] }]);
  assert.equal(fromApi.services.length, 1);
  assert.equal(fromApi.endpointSlices.length, 1);
  assert.deepEqual(readClusterValue({ kind: 'List', items: null }), { services: [], endpointSlices: [], ignoredKinds: {} });
});

test('other kinds are skipped and counted', () => {
  const cluster = readClusterValue({ kind: 'List', items: [SERVICE, { kind: 'Pod', metadata: { name: 'p' } }, { kind: 'Endpoints' }, { kind: 'Pod' }] });
  assert.deepEqual(cluster.ignoredKinds, { Pod: 2, Endpoints: 1 });
});

test('merges several documents', () => {
  const cluster = readClusterDocuments([
    { text: JSON.stringify({ kind: 'List', items: [SERVICE] }), source: 'svc.json' },
    { text: JSON.stringify({ kind: 'List', items: [SLICE, { kind: 'Node' }] }), source: 'eps.json' },
  ]);
  assert.equal(cluster.services.length, 1);
  assert.equal(cluster.endpointSlices.length, 1);
  assert.deepEqual(cluster.ignoredKinds, { Node: 1 });
});

test('merges documents of any size: 200,000 EndpointSlices in one document (no spread into push)', () => {
  // A spread of that many arguments overflows V8's stack ("Maximum call stack size exceeded").
  const items = Array.from({ length: 200_000 }, (_, i) => ({ ...SLICE, metadata: { ...SLICE.metadata, name: `web-${i}` } }));
  const cluster = readClusterDocuments([
    { text: JSON.stringify({ kind: 'List', items }), source: 'eps.json' },
    { text: JSON.stringify({ kind: 'List', items: [SERVICE] }), source: 'svc.json' },
  ]);
  assert.equal(cluster.endpointSlices.length, 200_000);
  assert.equal(cluster.endpointSlices[199_999]?.name, 'web-199999');
  assert.equal(cluster.services.length, 1);
});

test('IPv6 addresses are made canonical; ipMode, affinity timeout, policies and topology are read', () => {
  const cluster = readClusterValue({
    kind: 'Service',
    metadata: { name: 'v6', annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } },
    spec: {
      type: 'LoadBalancer',
      clusterIP: 'FD00:10:96:0:0:0:0:A',
      clusterIPs: ['fd00:10:96::a'],
      ipFamilies: ['IPv6'],
      externalIPs: ['2001:DB8::0:1'],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      ports: [{ port: 443, nodePort: 30443 }],
    },
    status: { loadBalancer: { ingress: [{ ip: '2001:db8:0::2', ipMode: 'Proxy' }, { hostname: 'lb.example.com' }] } },
  }).services[0];
  assert.equal(cluster?.namespace, 'default');
  assert.equal(cluster?.clusterIP, 'fd00:10:96::a');
  assert.deepEqual(cluster?.externalIPs, ['2001:db8::1']);
  assert.deepEqual(cluster?.loadBalancerIngress, [{ ip: '2001:db8::2', ipMode: 'Proxy' }, { ip: null, ipMode: null }]);
  assert.deepEqual(cluster?.ports, [{ name: '', protocol: 'TCP', port: 443, nodePort: 30443 }]);
  assert.equal(cluster?.affinityTimeoutSeconds, 60);
  assert.equal(cluster?.externalTrafficPolicy, 'Local');
  assert.equal(cluster?.topologyHint, 'service.kubernetes.io/topology-mode=Auto');
});

test('a port that is not a number names the file and the JSON path', () => {
  const items = [SLICE, SLICE, SLICE, { ...SERVICE, spec: { ...SERVICE.spec, ports: [{ name: 'http', port: '80' }] } }];
  const error = usageFailure(() => readClusterJson(JSON.stringify({ kind: 'List', items }), 'cluster.json'));
  assert.equal(error.message, 'cluster.json: items[3].spec.ports[0].port: expected a number, found string "80"');
  assert.match(error.hint ?? '', /kubectl get services,endpointslices -A -o json/);
});

test('each validated field reports its own path and what is valid', () => {
  const cases: [unknown, string][] = [
    [[{ ...SERVICE, spec: { ...SERVICE.spec, type: 'Headless' } }], '[0].spec.type: expected one of: ClusterIP, NodePort, LoadBalancer, ExternalName; found string "Headless"'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, clusterIP: '10.96.0.300' } }], '[0].spec.clusterIP: expected an IP address, found "10.96.0.300"'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, ports: [{ port: 70000 }] } }], '[0].spec.ports[0].port: expected a whole number from 0 to 65535, found 70000'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, ports: [{}] } }], '[0].spec.ports[0].port: expected a number (the field is required)'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, ports: [{ port: 80, protocol: 'tcp' }] } }], '[0].spec.ports[0].protocol: expected one of: TCP, UDP, SCTP; found string "tcp"'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, externalTrafficPolicy: 'OnlyLocal' } }], '[0].spec.externalTrafficPolicy: expected one of: Cluster, Local; found string "OnlyLocal"'],
    [[{ ...SERVICE, spec: { ...SERVICE.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 1.5 } } } }], '[0].spec.sessionAffinityConfig.clientIP.timeoutSeconds: expected a whole number from 0 to 2147483647, found 1.5'],
    [[{ ...SERVICE, status: { loadBalancer: { ingress: [{ ip: 'lb.example.com' }] } } }], '[0].status.loadBalancer.ingress[0].ip: expected an IP address, found "lb.example.com"'],
    [[{ ...SERVICE, metadata: { namespace: 'default' } }], '[0].metadata.name: expected a string (the field is required)'],
    [[{ ...SERVICE, spec: undefined }], '[0].spec: expected an object (the field is required)'],
    [[{ ...SLICE, endpoints: [{ conditions: { ready: true } }] }], '[0].endpoints[0].addresses: expected an array of strings (the field is required)'],
    [[{ ...SLICE, endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: 'yes' } }] }], '[0].endpoints[0].conditions.ready: expected true or false, found string "yes"'],
    [[{ ...SLICE, metadata: { ...SLICE.metadata, labels: { 'kubernetes.io/service-name': 7 } } }], '[0].metadata.labels["kubernetes.io/service-name"]: expected a string'],
    [[{ ...SLICE, addressType: undefined }], '[0].addressType: expected a string (the field is required)'],
    [{ kind: 'List', items: {} }, 'items: expected an array, found an object'],
    [{ kind: 'Service' , spec: {} }, 'metadata: expected an object (the field is required)'],
    [{ hello: 'world' }, '(top level): expected a List with "items", an array, or a Service or EndpointSlice object'],
    ['text', '(top level): expected an object, found string "text"'],
    [[{ metadata: { name: 'x' } }], '[0].kind: expected a string (Service or EndpointSlice)'],
  ];
  for (const [value, message] of cases) {
    const error = usageFailure(() => readClusterJson(JSON.stringify(value), 'in.json'));
    assert.equal(error.message, `in.json: ${message}`);
  }
});

test('text that is not JSON is a usage error naming the file', () => {
  const error = usageFailure(() => readClusterJson('{"kind": "List", items: []}', 'broken.json'));
  assert.match(error.message, /^broken\.json: not valid JSON \(/);
});
