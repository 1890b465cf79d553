// kind Cluster planning: kubeProxyMode, subnets and family, nodes on the pinned
// image, and the KubeProxyConfiguration patch for what kind has no field for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { isLocalUpError } from '../src/errors.js';
import { KIND_NODE_IMAGES, KIND_RELEASE, findKindNodeImage } from '../src/kind/images.js';
import type { KindConfigInput } from '../src/kubeproxy/kind-config.js';
import { planKindConfig } from '../src/kubeproxy/kind-config.js';
import { renderYamlDocuments } from '../src/kubeproxy/render.js';

function ver(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  assert.ok(v, text);
  return v;
}

const BASE = { ipFamily: 'ipv4', serviceSubnet: '10.96.0.0/16', podSubnet: '10.244.0.0/16', workers: 0 } as const;

function parsed(input: Partial<Omit<KindConfigInput, 'version'>> & { version: string; mode: KindConfigInput['mode'] }) {
  const plan = planKindConfig({ ...BASE, ...input, version: ver(input.version) });
  const [doc, ...more] = YAML.parseAllDocuments(renderYamlDocuments([plan.document]));
  assert.ok(doc);
  assert.equal(more.length, 0);
  assert.deepEqual(doc.errors, []);
  const cluster = doc.toJS() as Record<string, any>;
  // Each patch is itself a YAML document kind parses on its own.
  const patches = ((cluster.kubeadmConfigPatches ?? []) as string[]).map((p) => {
    const parsedPatch = YAML.parseDocument(p);
    assert.deepEqual(parsedPatch.errors, []);
    return parsedPatch.toJS() as Record<string, any>;
  });
  return { plan, cluster, patches };
}

const PIN_134 = 'kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d';

describe('kind Cluster in IPVS mode', () => {
  it('2 workers and strictARP: kubeProxyMode ipvs, three nodes on the pinned image, the IPVS patch', () => {
    const { cluster, patches, plan } = parsed({ version: '1.34', mode: 'ipvs', clusterName: 'ipvs-lab', workers: 2, ipvs: { scheduler: 'rr', strictArp: true } });
    assert.equal(cluster.kind, 'Cluster');
    assert.equal(cluster.apiVersion, 'kind.x-k8s.io/v1alpha4');
    assert.equal(cluster.name, 'ipvs-lab');
    assert.deepEqual(cluster.networking, { ipFamily: 'ipv4', kubeProxyMode: 'ipvs', serviceSubnet: '10.96.0.0/16', podSubnet: '10.244.0.0/16' });
    assert.deepEqual(cluster.nodes, [
      { role: 'control-plane', image: PIN_134 }, { role: 'worker', image: PIN_134 }, { role: 'worker', image: PIN_134 },
    ]);
    assert.deepEqual(patches, [{ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', ipvs: { scheduler: 'rr', strictARP: true } }]);
    assert.deepEqual(plan.warnings, [], 'no patch note when only the minor was asked for');
  });
  it('carries timeouts, sync periods, excludeCIDRs and nodePortAddresses in the patch', () => {
    const { patches } = parsed({
      version: '1.35.8', mode: 'ipvs', nodePortAddresses: ['172.18.0.0/16'],
      ipvs: { scheduler: 'wlc', syncPeriod: '10s', minSyncPeriod: '1s', tcpTimeout: '2h', tcpFinTimeout: '30s', udpTimeout: '5s', excludeCidrs: ['10.200.0.0/16'] },
    });
    assert.deepEqual(patches[0]?.ipvs, { scheduler: 'wlc', syncPeriod: '10s', minSyncPeriod: '1s', excludeCIDRs: ['10.200.0.0/16'], tcpTimeout: '2h', tcpFinTimeout: '30s', udpTimeout: '5s' });
    assert.deepEqual(patches[0]?.nodePortAddresses, ['172.18.0.0/16']);
  });
  it('1.36: the deprecation warning, and a note when the pinned patch differs from the one asked for', () => {
    const { plan, cluster } = parsed({ version: '1.36.0', mode: 'ipvs' });
    assert.match(plan.warnings.join('\n'), /deprecated since Kubernetes 1\.35/);
    assert.match(plan.warnings.join('\n'), /ships Kubernetes 1\.36\.4 for 1\.36, not 1\.36\.0/);
    assert.match(cluster.nodes[0].image, /^kindest\/node:v1\.36\.4@sha256:[0-9a-f]{64}$/);
  });
});

describe('other modes and gates', () => {
  it('iptables: no patch at all', () => {
    const { cluster } = parsed({ version: '1.34.11', mode: 'iptables', ipvs: { scheduler: 'rr' } });
    assert.equal(cluster.networking.kubeProxyMode, 'iptables');
    assert.equal(cluster.kubeadmConfigPatches, undefined);
  });
  it('nftables with FEATURE_GATES: cluster-wide featureGates, which kind hands to kube-proxy too', () => {
    const { cluster } = parsed({ version: '1.37.0', mode: 'nftables', featureGates: { Foo: true } });
    assert.equal(cluster.networking.kubeProxyMode, 'nftables');
    assert.deepEqual(cluster.featureGates, { Foo: true });
  });
});

describe('node images', () => {
  it('refuses a version the pinned release has no image for, naming the versions it has', () => {
    assert.throws(
      () => planKindConfig({ ...BASE, version: ver('1.30.0'), mode: 'ipvs' }),
      (error: unknown) => isLocalUpError(error) && error.exitCode === 2
        && error.message === `kind ${KIND_RELEASE} pins node images for Kubernetes 1.34.11, 1.35.8, 1.36.4, 1.37.0; KUBE_VERSION=1.30.0 has none`
        && /KIND_NODE_IMAGE \(--node-image\)/.test(error.hint ?? ''),
    );
  });
  it('uses an explicit KIND_NODE_IMAGE for any version', () => {
    const { cluster } = parsed({ version: '1.30.0', mode: 'ipvs', nodeImage: 'kindest/node:v1.30.13', workers: 1 });
    assert.deepEqual(cluster.nodes.map((n: { image: string }) => n.image), ['kindest/node:v1.30.13', 'kindest/node:v1.30.13']);
  });
  it('pins every image by a sha256 digest whose tag matches its Kubernetes version', () => {
    for (const pin of KIND_NODE_IMAGES) assert.match(pin.image, new RegExp(`^kindest/node:v${pin.kubernetes.replace(/\./g, '\\.')}@sha256:[0-9a-f]{64}$`));
    assert.equal(findKindNodeImage(ver('1.37'))?.patchNote, undefined);
    assert.equal(findKindNodeImage(ver('1.37.0'))?.patchNote, undefined);
    assert.equal(findKindNodeImage(ver('1.33.7')), null);
  });
});

describe('IP family and subnets', () => {
  it('refuses a subnet of the other family, naming the setting', () => {
    assert.throws(
      () => planKindConfig({ ...BASE, ipFamily: 'ipv6', podSubnet: 'fd00:10:244::/56', version: ver('1.34'), mode: 'ipvs' }),
      (error: unknown) => isLocalUpError(error) && /SERVICE_CLUSTER_IP_RANGE \(--service-cidr\)=10\.96\.0\.0\/16 is an IPv4 range, but IP_FAMILY=ipv6/.test(error.message),
    );
  });
  it('refuses one range for dual-stack and leaves the subnets to kind when none is given', () => {
    assert.throws(() => planKindConfig({ ...BASE, ipFamily: 'dual', version: ver('1.34'), mode: 'ipvs' }), /IP_FAMILY=dual needs an IPv4 and an IPv6 range/);
    const { cluster } = parsed({ version: '1.34', mode: 'ipvs', ipFamily: 'dual', serviceSubnet: undefined, podSubnet: undefined });
    assert.deepEqual(cluster.networking, { ipFamily: 'dual', kubeProxyMode: 'ipvs' });
  });
  it('accepts IPv6 ranges for ipv6', () => {
    const { cluster } = parsed({ version: '1.34', mode: 'ipvs', ipFamily: 'ipv6', serviceSubnet: 'fd00:10:96::/112', podSubnet: 'fd00:10:244::/56' });
    assert.equal(cluster.networking.serviceSubnet, 'fd00:10:96::/112');
  });
});
