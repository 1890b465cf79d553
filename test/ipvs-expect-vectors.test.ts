// Every kube-proxy IPVS vector (scenarios from kube-proxy's own unit tests,
// ../shared/data/kube-proxy-vectors, copied to test/fixtures/kube-proxy-vectors)
// is replayed through readClusterValue + expectIpvsState, sub-case variants included.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { expectIpvsState } from '../src/ipvs/expect.js';
import type { ExpectNode } from '../src/ipvs/expect.js';
import type { ExpectedVirtualServer } from '../src/ipvs/model.js';
import { readClusterValue } from '../src/kube/read.js';
import { ROOT } from './helpers/cli.js';

const DIR = join(ROOT, 'test', 'fixtures', 'kube-proxy-vectors');

interface VectorVirtualServer {
  address: string;
  port: number;
  protocol: string;
  scheduler: string;
  flags: string[];
  timeout: number;
  realServers: { address: string; port: number; weight: number }[];
}

interface VectorNode {
  name: string;
  ips: string[];
  nodePortAddresses: string[];
  family: 'IPv4' | 'IPv6';
}

interface Vector {
  id: string;
  source_test: string;
  cluster: { items: Record<string, unknown>[] };
  node: VectorNode;
  scheduler: string;
  expected: {
    exact?: boolean;
    virtualServerCount?: number;
    virtualServers?: VectorVirtualServer[];
    kubeIpvs0Addresses?: string[];
  };
  variants: Record<string, unknown>[] | null;
}

/** The comparable shape of one virtual server: what the vectors state, nothing else. */
interface Comparable {
  key: string;
  scheduler: string;
  persistent: { timeout: number } | null;
  realServers: string[];
}

function fromVector(vs: VectorVirtualServer): Comparable {
  const unknownFlags = vs.flags.filter((f) => f !== 'persistent');
  assert.deepEqual(unknownFlags, [], `vector flag(s) this test cannot represent: ${unknownFlags.join(', ')}`);
  const v6 = vs.address.includes(':');
  return {
    key: `${vs.protocol}/${v6 ? `[${vs.address}]` : vs.address}:${vs.port}`,
    scheduler: vs.scheduler,
    persistent: vs.flags.includes('persistent') ? { timeout: vs.timeout } : null,
    realServers: vs.realServers.map((rs) => `${rs.address.includes(':') ? `[${rs.address}]` : rs.address}:${rs.port}/w${rs.weight}`).sort(),
  };
}

function fromExpected(vs: ExpectedVirtualServer): Comparable {
  const v6 = vs.address.includes(':');
  return {
    key: `${vs.protocol}/${v6 ? `[${vs.address}]` : vs.address}:${vs.port}`,
    scheduler: vs.scheduler,
    persistent: vs.persistent,
    realServers: vs.realServers.map((rs) => `${rs.address.includes(':') ? `[${rs.address}]` : rs.address}:${rs.port}/w${rs.weight}`).sort(),
  };
}

const byKey = (a: Comparable, b: Comparable): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function nodeOf(vector: Pick<Vector, 'node' | 'scheduler'>): ExpectNode {
  return {
    name: vector.node.name,
    addresses: vector.node.ips,
    nodePortAddresses: vector.node.nodePortAddresses,
    scheduler: vector.scheduler,
    family: vector.node.family === 'IPv6' ? 6 : 4,
  };
}

/** Checks exactly what the vector asserts: the whole table when exact, else the count and/or the listed VSs. */
function checkExpected(vector: Pick<Vector, 'cluster' | 'node' | 'scheduler'>, expected: Vector['expected']): void {
  const state = expectIpvsState(readClusterValue(vector.cluster), nodeOf(vector));
  const got = state.virtualServers.map(fromExpected).sort(byKey);
  assert.ok(
    expected.exact === true || expected.virtualServerCount !== undefined || expected.virtualServers !== undefined,
    'the vector asserts nothing this test understands',
  );
  if (expected.exact === true) {
    assert.deepEqual(got, (expected.virtualServers ?? []).map(fromVector).sort(byKey));
  } else {
    if (expected.virtualServerCount !== undefined) assert.equal(got.length, expected.virtualServerCount);
    for (const want of (expected.virtualServers ?? []).map(fromVector)) {
      assert.deepEqual(got.find((vs) => vs.key === want.key), want, `virtual server ${want.key}`);
    }
  }
  if (expected.kubeIpvs0Addresses !== undefined) assert.deepEqual([...state.kubeIpvs0Addresses].sort(), [...expected.kubeIpvs0Addresses].sort());
}

const files = readdirSync(DIR).filter((f) => /^V\d+\.json$/.test(f)).sort();

test('the vector fixtures are all here (one per file in ../shared/data/kube-proxy-vectors)', () => {
  assert.ok(files.length >= 13, `found ${files.length} vector files`);
});

for (const file of files) {
  const vector = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Vector;
  test(`${vector.id}: ${vector.source_test}`, () => {
    checkExpected(vector, vector.expected);
  });
  for (const [i, variant] of (vector.variants ?? []).entries()) {
    test(`${vector.id} variant ${i + 1}: ${String(variant.from)}`, () => {
      const input = buildVariant(vector, variant);
      checkExpected(input, { exact: true, virtualServers: variant.virtualServers as VectorVirtualServer[] });
    });
  }
}

/** Applies a variant's described changes to its vector's input. Unknown change keys fail the test. */
function buildVariant(vector: Vector, variant: Record<string, unknown>): Pick<Vector, 'cluster' | 'node' | 'scheduler'> {
  const known = new Set(['from', 'virtualServers', 'ipsets', 'notes', 'proxier.ipFamily', 'service.clusterIP', 'endpointSlices', 'proxier.nodeIPs', 'input']);
  const unknown = Object.keys(variant).filter((k) => !known.has(k));
  assert.deepEqual(unknown, [], `variant keys this test does not know how to apply: ${unknown.join(', ')}`);
  if (variant.input !== undefined) return fromReducedInput(variant.input as ReducedInput, vector.scheduler);

  const cluster = structuredClone(vector.cluster);
  const node = { ...vector.node };
  if (typeof variant['proxier.ipFamily'] === 'string') node.family = variant['proxier.ipFamily'] as VectorNode['family'];
  if (Array.isArray(variant['proxier.nodeIPs'])) node.ips = variant['proxier.nodeIPs'] as string[];
  if (typeof variant['service.clusterIP'] === 'string') {
    const ip = variant['service.clusterIP'];
    const services = cluster.items.filter((item) => item.kind === 'Service');
    assert.equal(services.length, 1, 'service.clusterIP applies to a single-Service vector');
    const spec = (services[0] as { spec: Record<string, unknown> }).spec;
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
    spec.ipFamilies = [ip.includes(':') ? 'IPv6' : 'IPv4'];
  }
  if (Array.isArray(variant.endpointSlices)) {
    assert.equal(variant.endpointSlices.length, 0, 'only "no EndpointSlices" variants are described this way');
    cluster.items = cluster.items.filter((item) => item.kind !== 'EndpointSlice');
  }
  return { cluster, node, scheduler: vector.scheduler };
}

/** The reduced, k8s-like input form some variants carry (docs/kube-proxy-ipvs.md §0.2). */
interface ReducedInput {
  proxier: { ipFamily: 'IPv4' | 'IPv6'; nodeName: string; nodeIPs: string[]; nodePortAddresses: string[] };
  services: { namespace: string; name: string; type: string; clusterIP: string; ports: { name: string; port: number; protocol: string; nodePort?: number }[] }[];
  endpointSlices: {
    namespace: string;
    service: string;
    addressType: string;
    ports: { name: string; port: number; protocol: string }[];
    endpoints: { addresses: string[]; nodeName?: string }[];
  }[];
}

function fromReducedInput(input: ReducedInput, scheduler: string): Pick<Vector, 'cluster' | 'node' | 'scheduler'> {
  const items: Record<string, unknown>[] = [
    ...input.services.map((s) => ({
      kind: 'Service',
      metadata: { namespace: s.namespace, name: s.name },
      spec: { type: s.type, clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], ipFamilies: [s.clusterIP.includes(':') ? 'IPv6' : 'IPv4'], ports: s.ports },
    })),
    ...input.endpointSlices.map((e, i) => ({
      kind: 'EndpointSlice',
      metadata: { namespace: e.namespace, name: `${e.service}-${i}`, labels: { 'kubernetes.io/service-name': e.service } },
      addressType: e.addressType,
      ports: e.ports,
      endpoints: e.endpoints,
    })),
  ];
  return {
    cluster: { items },
    node: { name: input.proxier.nodeName, ips: input.proxier.nodeIPs, nodePortAddresses: input.proxier.nodePortAddresses, family: input.proxier.ipFamily },
    scheduler,
  };
}
