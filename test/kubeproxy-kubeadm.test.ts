// kubeadm documents per Kubernetes version: the API version of each era, the
// shape (embedded kube-proxy config vs a separate document), parsed back from YAML.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { isLocalUpError } from '../src/errors.js';
import type { KubeadmConfigInput } from '../src/kubeproxy/kubeadm.js';
import { kubeadmApiVersion, planKubeadmConfig } from '../src/kubeproxy/kubeadm.js';
import { renderYamlDocuments } from '../src/kubeproxy/render.js';

function ver(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  assert.ok(v, text);
  return v;
}

const NET = { serviceSubnet: '10.96.0.0/16', podSubnet: '10.244.0.0/16' } as const;

function parsed(input: Omit<KubeadmConfigInput, 'version'> & { version: string }) {
  const plan = planKubeadmConfig({ ...NET, ...input, version: ver(input.version) });
  const docs = YAML.parseAllDocuments(renderYamlDocuments(plan.documents));
  for (const d of docs) assert.deepEqual(d.errors, []);
  return { plan, docs: docs.map((d) => d.toJS() as Record<string, any>) };
}

describe('kubeadm API version per Kubernetes version', () => {
  const table: [string, string | null][] = [
    ['1.7.0', null], ['1.8.0', 'v1alpha1'], ['1.10.13', 'v1alpha1'], ['1.11.0', 'v1alpha2'], ['1.12.0', 'v1alpha3'],
    ['1.13.0', 'v1beta1'], ['1.14.10', 'v1beta1'], ['1.15.0', 'v1beta2'], ['1.21.14', 'v1beta2'], ['1.22.0', 'v1beta3'],
    ['1.30.14', 'v1beta3'], ['1.31.0', 'v1beta4'], ['1.37.0', 'v1beta4'],
  ];
  for (const [version, api] of table) {
    it(`${version} -> ${api ?? 'none'}`, () => assert.equal(kubeadmApiVersion(ver(version)), api === null ? null : `kubeadm.k8s.io/${api}`));
  }
});

describe('the seed-document era: one MasterConfiguration with kube-proxy embedded', () => {
  it('1.9 IPVS: v1alpha1, kubeProxy.config with mode ipvs and the gate as a string', () => {
    const { docs } = parsed({ version: '1.9.0', mode: 'ipvs', ipvs: { scheduler: 'rr' } });
    assert.equal(docs.length, 1);
    const [master] = docs;
    assert.equal(master?.apiVersion, 'kubeadm.k8s.io/v1alpha1');
    assert.equal(master?.kind, 'MasterConfiguration');
    assert.equal(master?.kubernetesVersion, 'v1.9.0');
    assert.deepEqual(master?.networking, NET);
    assert.deepEqual(master?.kubeProxy, { config: { mode: 'ipvs', clusterCIDR: '10.244.0.0/16', featureGates: 'SupportIPVSProxyMode=true', ipvs: { scheduler: 'rr' } } });
  });
  it('1.10: the same document, gates as a map and no IPVS gate (on by default)', () => {
    const { docs } = parsed({ version: '1.10.13', mode: 'ipvs', featureGates: { Foo: true } });
    assert.deepEqual(docs[0]?.kubeProxy.config.featureGates, { Foo: true });
  });
  it('1.11: v1alpha2, still embedded', () => {
    const { docs } = parsed({ version: '1.11.10', mode: 'ipvs', ipvs: { excludeCidrs: ['10.200.0.0/16'] } });
    assert.equal(docs[0]?.apiVersion, 'kubeadm.k8s.io/v1alpha2');
    assert.deepEqual(docs[0]?.kubeProxy.config.ipvs, { scheduler: 'rr', excludeCIDRs: ['10.200.0.0/16'] });
  });
  it('1.8: kubeadm cannot configure kube-proxy, so iptables only and IPVS is an error naming the fix', () => {
    const { docs } = parsed({ version: '1.8.15', mode: 'iptables' });
    assert.equal(docs[0]?.kubeProxy, undefined);
    assert.equal(docs[0]?.kind, 'MasterConfiguration');
    assert.throws(
      () => planKubeadmConfig({ ...NET, version: ver('1.8.15'), mode: 'ipvs' }),
      (error: unknown) => isLocalUpError(error) && error.exitCode === 2
        && /kubeadm 1\.8\.15 cannot configure kube-proxy/.test(error.message) && /1\.9 or later/.test(error.hint ?? ''),
    );
  });
});

describe('Init/ClusterConfiguration plus a separate KubeProxyConfiguration (1.12+)', () => {
  it('1.30 IPVS: v1beta3 documents, KubeProxyConfiguration in IPVS mode without any IPVS gate', () => {
    const { docs, plan } = parsed({ version: '1.30.0', mode: 'ipvs', ipvs: { scheduler: 'rr', strictArp: true } });
    assert.deepEqual(docs.map((d) => `${d.apiVersion} ${d.kind}`), [
      'kubeadm.k8s.io/v1beta3 InitConfiguration', 'kubeadm.k8s.io/v1beta3 ClusterConfiguration', 'kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
    ]);
    const [, cluster, proxy] = docs;
    assert.equal(cluster?.kubernetesVersion, 'v1.30.0');
    assert.deepEqual(cluster?.networking, NET);
    assert.equal(proxy?.mode, 'ipvs');
    assert.equal(proxy?.featureGates, undefined);
    assert.deepEqual(proxy?.ipvs, { scheduler: 'rr', strictARP: true });
    assert.equal(proxy?.hostnameOverride, undefined);
    assert.equal(proxy?.clientConnection, undefined);
    assert.deepEqual(plan.warnings, []);
  });
  it('1.12: v1alpha3 already separates the documents', () => {
    const { docs } = parsed({ version: '1.12.0', mode: 'ipvs' });
    assert.deepEqual(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration', 'KubeProxyConfiguration']);
    assert.equal(docs[0]?.apiVersion, 'kubeadm.k8s.io/v1alpha3');
  });
  it('1.36 IPVS: v1beta4 and the deprecation warning', () => {
    const { docs, plan } = parsed({ version: '1.36.1', mode: 'ipvs' });
    assert.equal(docs[0]?.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.match(plan.warnings.join(), /deprecated since Kubernetes 1\.35/);
  });
  it('a version without a patch asks kubeadm for the stable label and warns', () => {
    const { docs, plan } = parsed({ version: '1.33', mode: 'nftables' });
    assert.equal(docs[1]?.kubernetesVersion, 'stable-1.33');
    assert.match(plan.warnings.join(), /no patch release/);
  });
  it('says where FEATURE_GATES go', () => {
    const { docs, plan } = parsed({ version: '1.34.0', mode: 'iptables', featureGates: { Foo: true } });
    assert.deepEqual(docs[2]?.featureGates, { Foo: true });
    assert.match(plan.warnings.join(), /FEATURE_GATES reach kube-proxy only/);
  });
});
