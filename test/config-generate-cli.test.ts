// `local-up config kind|kubeadm|kube-proxy` end to end through the CLI: YAML on
// stdout (parsed back), warnings on stderr, exit 2 for impossible combinations,
// and golden files for a few full documents (UPDATE_GOLDEN=1 rewrites them).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { ROOT, cleanEnv, runBin, runInProcess } from './helpers/cli.js';

const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden');

function yamlDocs(stdout: string): Record<string, any>[] {
  const docs = YAML.parseAllDocuments(stdout);
  for (const d of docs) assert.deepEqual(d.errors, [], stdout);
  return docs.map((d) => d.toJS() as Record<string, any>);
}

describe('config kubeadm', () => {
  it('--k8s-version 1.9.0 --mode ipvs: the v1alpha1 MasterConfiguration with the gate and mode ipvs', async () => {
    const r = await runInProcess(['config', 'kubeadm', '--k8s-version', '1.9.0', '--mode', 'ipvs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const [master, ...rest] = yamlDocs(r.stdout);
    assert.equal(rest.length, 0);
    assert.equal(master?.apiVersion, 'kubeadm.k8s.io/v1alpha1');
    assert.equal(master?.kind, 'MasterConfiguration');
    assert.equal(master?.kubeProxy.config.mode, 'ipvs');
    assert.equal(master?.kubeProxy.config.featureGates, 'SupportIPVSProxyMode=true');
  });
  it('--k8s-version 1.30.0 --mode ipvs: current kubeadm documents, KubeProxyConfiguration in IPVS mode, no gate', async () => {
    const r = await runInProcess(['config', 'kubeadm', '--k8s-version', '1.30.0', '--mode', 'ipvs']);
    assert.equal(r.code, 0, r.stderr);
    const docs = yamlDocs(r.stdout);
    assert.deepEqual(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration', 'KubeProxyConfiguration']);
    assert.equal(docs[0]?.apiVersion, 'kubeadm.k8s.io/v1beta3');
    const proxy = docs[2];
    assert.equal(proxy?.mode, 'ipvs');
    assert.equal(proxy?.featureGates, undefined);
    assert.doesNotMatch(r.stdout, /SupportIPVSProxyMode/);
  });
  it('1.36 IPVS: the deprecation warning on stderr, valid YAML on stdout', async () => {
    const r = await runInProcess(['config', 'kubeadm', '--k8s-version', '1.36.1', '--mode', 'ipvs']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: IPVS proxy mode is deprecated since Kubernetes 1\.35 .*nftables/m);
    assert.doesNotMatch(r.stdout, /deprecated|warning/);
    assert.equal(yamlDocs(r.stdout)[2]?.mode, 'ipvs');
  });
  it('nftables with 1.28: exit 2, the fix named, nothing on stdout', async () => {
    const r = await runInProcess(['config', 'kubeadm', '--k8s-version', '1.28.0', '--mode', 'nftables']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /KUBE_PROXY_MODE=nftables \(--mode\) needs Kubernetes 1\.29 or later.*set KUBE_VERSION \(--k8s-version\) to 1\.29 or later/);
  });
});

describe('config kind', () => {
  it('IPVS mode: a Cluster with kubeProxyMode ipvs', async () => {
    const r = await runInProcess(['config', 'kind', '--mode', 'ipvs', '--k8s-version', '1.35']);
    assert.equal(r.code, 0, r.stderr);
    const [cluster] = yamlDocs(r.stdout);
    assert.equal(cluster?.kind, 'Cluster');
    assert.equal(cluster?.networking.kubeProxyMode, 'ipvs');
    assert.equal(cluster?.name, 'local-up');
    assert.match(r.stderr, /deprecated since Kubernetes 1\.35/);
  });
  it('takes settings from the environment: IPVS_STRICT_ARP, KIND_WORKERS, KIND_NODE_IMAGE', async () => {
    const env = cleanEnv({ KUBE_PROXY_MODE: 'ipvs', IPVS_STRICT_ARP: 'true', KIND_WORKERS: '1', KIND_NODE_IMAGE: 'example.com/node:v1.29.1', KUBE_VERSION: '1.29.1' });
    const r = await runInProcess(['config', 'kind'], { env });
    assert.equal(r.code, 0, r.stderr);
    const [cluster] = yamlDocs(r.stdout);
    assert.deepEqual(cluster?.nodes, [{ role: 'control-plane', image: 'example.com/node:v1.29.1' }, { role: 'worker', image: 'example.com/node:v1.29.1' }]);
    assert.match(cluster?.kubeadmConfigPatches[0], /strictARP: true/);
  });
  it('a version without a pinned image: exit 2 naming the pinned versions', async () => {
    const r = await runInProcess(['config', 'kind', '--k8s-version', '1.31.4']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pins node images for Kubernetes 1\.34\.11, 1\.35\.8, 1\.36\.4, 1\.37\.0/);
  });
  it("ipv6 with the default subnets uses kind's IPv6 defaults (kind pkg/internal/apis/config/default.go)", async () => {
    const r = await runInProcess(['config', 'kind', '--ip-family', 'ipv6', '--k8s-version', '1.34', '--mode', 'iptables']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(yamlDocs(r.stdout)[0]?.networking, { ipFamily: 'ipv6', kubeProxyMode: 'iptables', serviceSubnet: 'fd00:10:96::/112', podSubnet: 'fd00:10:244::/56' });
  });
  it('dual with the default subnets leaves the subnets to kind', async () => {
    const r = await runInProcess(['config', 'kind', '--ip-family', 'dual', '--k8s-version', '1.34', '--mode', 'iptables']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(yamlDocs(r.stdout)[0]?.networking, { ipFamily: 'dual', kubeProxyMode: 'iptables' });
  });
});

describe('config kube-proxy', () => {
  it('--flags prints one flag per line', async () => {
    const r = await runInProcess(['config', 'kube-proxy', '--k8s-version', '1.34.0', '--mode', 'ipvs', '--flags', '--kubeconfig', '/k', '--ipvs-udp-timeout', '10s']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '--proxy-mode=ipvs', '--cluster-cidr=10.244.0.0/16', '--kubeconfig=/k',
      '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=0s', '--conntrack-tcp-timeout-close-wait=0s',
      '--ipvs-scheduler=rr', '--ipvs-udp-timeout=10s',
    ]);
  });
  it('--flags exits 2 when the version has no flag for a setting', async () => {
    const r = await runInProcess(['config', 'kube-proxy', '--k8s-version', '1.10.0', '--flags', '--metrics-bind-address', '0.0.0.0:10249']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot set it with flags/);
  });
  it('1.17 with IPVS_TCP_TIMEOUT: exit 2 naming the setting and 1.18', async () => {
    const r = await runInProcess(['config', 'kube-proxy', '--k8s-version', '1.17.0', '--mode', 'ipvs', '--ipvs-tcp-timeout', '1h']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /IPVS_TCP_TIMEOUT=1h \(--ipvs-tcp-timeout\) needs kube-proxy 1\.18/);
  });
});

// Releases no real binary can be built for here (Go 1.26 cannot build 1.9 or 1.30's kubeadm is
// not in the test matrix): their documents are kept as reviewed golden files. The kind Cluster and
// the 1.34 KubeProxyConfiguration are no longer golden: the real kind and the real kube-proxy read
// them in test/real-kind.test.ts and test/real-components.test.ts.
describe('golden documents', () => {
  const cases: { file: string; argv: string[] }[] = [
    { file: 'kubeadm-1.9-ipvs.yaml', argv: ['config', 'kubeadm', '--k8s-version', '1.9.0', '--mode', 'ipvs'] },
    { file: 'kubeadm-1.30-ipvs.yaml', argv: ['config', 'kubeadm', '--k8s-version', '1.30.0', '--mode', 'ipvs'] },
  ];
  for (const c of cases) {
    it(c.file, async () => {
      const r = await runInProcess(c.argv);
      assert.equal(r.code, 0, r.stderr);
      const path = join(GOLDEN, c.file);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(path, r.stdout);
      }
      assert.ok(existsSync(path), `missing ${path}; run with UPDATE_GOLDEN=1 and review the file`);
      assert.equal(r.stdout, readFileSync(path, 'utf8'));
    });
  }
});

describe('as a process', () => {
  const built = existsSync(join(ROOT, 'dist', 'cli', 'main.js'));
  it('keeps stdout pure YAML and exits 0 with a warning', { skip: built ? false : 'dist/ not built (npm run build)' }, async () => {
    const r = await runBin(['config', 'kube-proxy', '--k8s-version', '1.36.0', '--mode', 'ipvs']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: IPVS proxy mode is deprecated/);
    assert.equal(yamlDocs(r.stdout)[0]?.kind, 'KubeProxyConfiguration');
  });
});
