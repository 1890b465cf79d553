// planKubeProxyConfig per version boundary: every emitted document is parsed
// back from YAML and checked field by field; fields a version does not know
// must be absent, settings it cannot honour must fail with the setting named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import type { ProxyMode } from '../src/config/settings.js';
import { isLocalUpError } from '../src/errors.js';
import type { KubeProxyConfigInput } from '../src/kubeproxy/config.js';
import { isHostPort, planKubeProxyConfig } from '../src/kubeproxy/config.js';
import { renderYamlDocuments } from '../src/kubeproxy/render.js';

function ver(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  assert.ok(v, text);
  return v;
}

/** Plans, renders to YAML and parses the YAML back, as a consumer would read it. */
function planAndParse(input: Omit<KubeProxyConfigInput, 'version'> & { version: string }) {
  const plan = planKubeProxyConfig({ ...input, version: ver(input.version) });
  assert.ok(plan.document, `no document for ${input.version}`);
  const docs = YAML.parseAllDocuments(renderYamlDocuments([plan.document]));
  assert.equal(docs.length, 1);
  const [doc] = docs;
  assert.ok(doc);
  assert.deepEqual(doc.errors, []);
  return { plan, doc: doc.toJS() as Record<string, unknown> };
}

function planError(input: Omit<KubeProxyConfigInput, 'version'> & { version: string }): string {
  try {
    planKubeProxyConfig({ ...input, version: ver(input.version) });
  } catch (error) {
    assert.ok(isLocalUpError(error), String(error));
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail(`expected ${input.version} ${input.mode} to be refused`);
}

const ALL_IPVS = {
  scheduler: 'rr', strictArp: true, syncPeriod: '20s', minSyncPeriod: '2s',
  tcpTimeout: '1h', tcpFinTimeout: '30s', udpTimeout: '10s', excludeCidrs: ['10.200.0.0/16'],
} as const;

describe('kube-proxy config at each version boundary (IPVS mode, only what the version knows)', () => {
  interface Row {
    version: string;
    apiVersion: string;
    featureGates: unknown;
    /** The IPVS settings that version can honour (the rest are left out of the input). */
    ipvs: Record<string, unknown>;
    ipvsExpected: Record<string, unknown>;
    nodePort: boolean;
  }
  const basic = { scheduler: 'wrr', syncPeriod: '20s', minSyncPeriod: '2s' };
  const rows: Row[] = [
    { version: '1.8.15', apiVersion: 'componentconfig/v1alpha1', featureGates: 'SupportIPVSProxyMode=true', ipvs: basic, ipvsExpected: basic, nodePort: false },
    { version: '1.9.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: 'SupportIPVSProxyMode=true', ipvs: basic, ipvsExpected: basic, nodePort: false },
    { version: '1.10.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, ipvs: basic, ipvsExpected: basic, nodePort: true },
    {
      version: '1.11.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true,
      ipvs: { ...basic, excludeCidrs: ['10.200.0.0/16'] }, ipvsExpected: { ...basic, excludeCIDRs: ['10.200.0.0/16'] },
    },
    {
      version: '1.20.15', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true, ipvs: ALL_IPVS,
      ipvsExpected: { scheduler: 'rr', syncPeriod: '20s', minSyncPeriod: '2s', strictARP: true, excludeCIDRs: ['10.200.0.0/16'], tcpTimeout: '1h', tcpFinTimeout: '30s', udpTimeout: '10s' },
    },
    {
      version: '1.21.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true, ipvs: ALL_IPVS,
      ipvsExpected: { scheduler: 'rr', syncPeriod: '20s', minSyncPeriod: '2s', strictARP: true, excludeCIDRs: ['10.200.0.0/16'], tcpTimeout: '1h', tcpFinTimeout: '30s', udpTimeout: '10s' },
    },
    { version: '1.29.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true, ipvs: { scheduler: 'mh' }, ipvsExpected: { scheduler: 'mh' } },
    { version: '1.35.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true, ipvs: { strictArp: true }, ipvsExpected: { scheduler: 'rr', strictARP: true } },
    { version: '1.37.0', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', featureGates: undefined, nodePort: true, ipvs: { tcpTimeout: '0s', udpTimeout: '' }, ipvsExpected: { scheduler: 'rr' } },
  ];
  for (const row of rows) {
    it(`${row.version}: apiVersion ${row.apiVersion}, gates ${JSON.stringify(row.featureGates)}, ipvs ${Object.keys(row.ipvsExpected).join(',')}`, () => {
      const { doc } = planAndParse({
        version: row.version, mode: 'ipvs', clusterCidr: '10.244.0.0/16',
        ipvs: row.ipvs, ...(row.nodePort ? { nodePortAddresses: ['192.168.0.0/16'] } : {}),
      });
      assert.equal(doc.apiVersion, row.apiVersion);
      assert.equal(doc.kind, 'KubeProxyConfiguration');
      assert.equal(doc.mode, 'ipvs');
      assert.equal(doc.clusterCIDR, '10.244.0.0/16');
      assert.deepEqual(doc.featureGates, row.featureGates);
      assert.deepEqual(doc.ipvs, row.ipvsExpected);
      assert.deepEqual(doc.nodePortAddresses, row.nodePort ? ['192.168.0.0/16'] : undefined);
      // kubeadm/kind own these: never written unless asked for.
      assert.equal(doc.hostnameOverride, undefined);
      assert.equal(doc.clientConnection, undefined);
    });
  }

  it('writes the user gates as a string before 1.10 and as a map after, with the required gate first', () => {
    const old = planAndParse({ version: '1.9.3', mode: 'ipvs', featureGates: { Foo: true, Bar: false } });
    assert.equal(old.doc.featureGates, 'SupportIPVSProxyMode=true,Foo=true,Bar=false');
    assert.deepEqual(old.plan.featureGates, { SupportIPVSProxyMode: true, Foo: true, Bar: false });
    const later = planAndParse({ version: '1.10.0', mode: 'iptables', featureGates: { Foo: true } });
    assert.deepEqual(later.doc.featureGates, { Foo: true });
  });

  it('adds SupportIPVSProxyMode only for IPVS mode on 1.8/1.9', () => {
    assert.equal(planAndParse({ version: '1.9.0', mode: 'iptables' }).doc.featureGates, undefined);
    assert.equal(planAndParse({ version: '1.8.0', mode: 'ipvs' }).doc.featureGates, 'SupportIPVSProxyMode=true');
  });

  it('writes the standalone fields when given: hostnameOverride, kubeconfig, bind addresses, conntrack', () => {
    const { doc } = planAndParse({
      version: '1.34.0', mode: 'ipvs', hostnameOverride: 'node-a', kubeconfig: '/etc/kube-proxy.conf',
      metricsBindAddress: '0.0.0.0:10249', healthzBindAddress: '[::]:10256',
      conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    });
    assert.equal(doc.hostnameOverride, 'node-a');
    assert.deepEqual(doc.clientConnection, { kubeconfig: '/etc/kube-proxy.conf' });
    assert.equal(doc.metricsBindAddress, '0.0.0.0:10249');
    assert.equal(doc.healthzBindAddress, '[::]:10256');
    assert.deepEqual(doc.conntrack, { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' });
  });

  it('leaves zero conntrack values out where the release has no such field, but refuses real ones', () => {
    const { doc } = planAndParse({ version: '1.7.0', mode: 'iptables', conntrack: { maxPerCore: 0, min: 0, tcpCloseWaitTimeout: '0s' } });
    assert.equal(doc.apiVersion, 'componentconfig/v1alpha1');
    assert.deepEqual(doc.conntrack, { maxPerCore: 0 });
    assert.match(planError({ version: '1.7.0', mode: 'iptables', conntrack: { tcpCloseWaitTimeout: '1h' } }), /tcpCloseWaitTimeout=1h needs kube-proxy 1\.8/);
  });

  it('leaves the ipvs block out of other modes and warns about IPVS settings there', () => {
    const { plan, doc } = planAndParse({ version: '1.34.0', mode: 'nftables', ipvs: { scheduler: 'rr', strictArp: true, tcpTimeout: '1h' } });
    assert.equal(doc.ipvs, undefined);
    assert.equal(doc.mode, 'nftables');
    assert.ok(plan.warnings.some((w) => /IPVS_STRICT_ARP.*IPVS_TCP_TIMEOUT.*only apply to IPVS mode/.test(w)), plan.warnings.join('\n'));
    assert.ok(!plan.warnings.some((w) => /IPVS_SCHEDULER/.test(w)), 'the default scheduler is no user setting');
  });

  it('has no config file before 1.7: document null, flags only', () => {
    const plan = planKubeProxyConfig({ version: ver('1.6.13'), mode: 'iptables', clusterCidr: '10.244.0.0/16', hostnameOverride: 'n1' });
    assert.equal(plan.document, null);
    assert.deepEqual(plan.flags, ['--proxy-mode=iptables', '--cluster-cidr=10.244.0.0/16', '--hostname-override=n1']);
  });
});

describe('settings a version cannot honour are errors naming the setting and the release that added it', () => {
  const cases: { name: string; input: Omit<KubeProxyConfigInput, 'version'> & { version: string }; message: RegExp }[] = [
    { name: 'ipvs before 1.8', input: { version: '1.7.16', mode: 'ipvs' }, message: /KUBE_PROXY_MODE=ipvs \(--mode\) needs Kubernetes 1\.8 or later.*KUBE_PROXY_MODE=iptables/ },
    { name: 'nftables before 1.29', input: { version: '1.28.0', mode: 'nftables' }, message: /KUBE_PROXY_MODE=nftables \(--mode\) needs Kubernetes 1\.29 or later.*set KUBE_VERSION \(--k8s-version\) to 1\.29/ },
    { name: 'strictARP before the back-ports', input: { version: '1.12.10', mode: 'ipvs', ipvs: { strictArp: true } }, message: /IPVS_STRICT_ARP=true \(--strict-arp\) needs kube-proxy 1\.15/ },
    { name: 'timeouts before 1.18', input: { version: '1.17.17', mode: 'ipvs', ipvs: { tcpFinTimeout: '30s' } }, message: /IPVS_TCPFIN_TIMEOUT=30s \(--ipvs-tcpfin-timeout\) needs kube-proxy 1\.18/ },
    { name: 'excludeCIDRs before 1.11', input: { version: '1.10.13', mode: 'ipvs', ipvs: { excludeCidrs: ['10.0.0.0/8'] } }, message: /IPVS_EXCLUDE_CIDRS \(--exclude-cidrs\) needs kube-proxy 1\.11/ },
    { name: 'nodePortAddresses before 1.10', input: { version: '1.9.11', mode: 'iptables', nodePortAddresses: ['10.0.0.0/8'] }, message: /NODEPORT_ADDRESSES \(--nodeport-addresses\) needs kube-proxy 1\.10/ },
    // kube-proxy 1.29.15 pkg/proxy/apis/config/validation/validation.go: every entry must parse as a CIDR.
    { name: 'nodePortAddresses primary before 1.31', input: { version: '1.29.15', mode: 'ipvs', nodePortAddresses: ['primary'] }, message: /NODEPORT_ADDRESSES=primary needs kube-proxy 1\.31; kube-proxy 1\.29\.15 accepts only CIDRs/ },
    // kube-proxy 1.34.11 validation.go: "primary" alone or CIDRs; "localhost" and "all" are not CIDRs. 1.37.2 accepts them (PR #138427).
    { name: 'nodePortAddresses localhost and all before 1.37', input: { version: '1.34.11', mode: 'ipvs', nodePortAddresses: ['localhost', 'all'] }, message: /NODEPORT_ADDRESSES keywords "localhost", "all" need kube-proxy 1\.37; kube-proxy 1\.34\.11 refuses to start with them: use 127\.0\.0\.0\/8,::1\/128/ },
    { name: 'nodePortAddresses primary with a CIDR before 1.37', input: { version: '1.34.11', mode: 'ipvs', nodePortAddresses: ['primary', '10.0.0.0/8'] }, message: /"primary" must be alone before kube-proxy 1\.37/ },
    { name: 'a scheduler outside the pre-1.27 list', input: { version: '1.26.15', mode: 'ipvs', ipvs: { scheduler: 'mh' } }, message: /IPVS_SCHEDULER=mh \(--scheduler\) is rejected by kube-proxy 1\.26\.15: before 1\.27 it accepts only rr, wrr/ },
    { name: 'SupportIPVSProxyMode after 1.20', input: { version: '1.21.0', mode: 'ipvs', featureGates: { SupportIPVSProxyMode: true } }, message: /SupportIPVSProxyMode, which was removed after 1\.20.*remove it/ },
    { name: 'SupportIPVSProxyMode=false on 1.9', input: { version: '1.9.0', mode: 'ipvs', featureGates: { SupportIPVSProxyMode: false } }, message: /SupportIPVSProxyMode=false.*runs IPVS mode only with SupportIPVSProxyMode=true/ },
    { name: 'minSyncPeriod above syncPeriod', input: { version: '1.30.0', mode: 'ipvs', ipvs: { syncPeriod: '10s', minSyncPeriod: '1m' } }, message: /IPVS_MIN_SYNC_PERIOD=1m .*longer than the sync period \(10s\)/ },
    { name: 'minSyncPeriod above the default syncPeriod', input: { version: '1.30.0', mode: 'ipvs', ipvs: { minSyncPeriod: '45s' } }, message: /longer than the sync period \(30s, the default\)/ },
    { name: 'syncPeriod zero', input: { version: '1.30.0', mode: 'ipvs', ipvs: { syncPeriod: '0s' } }, message: /IPVS_SYNC_PERIOD=0s.*greater than 0/ },
    { name: 'a bind address without a port', input: { version: '1.30.0', mode: 'ipvs', metricsBindAddress: '0.0.0.0' }, message: /--metrics-bind-address 0\.0\.0\.0 must be IP:port/ },
    { name: 'KubeProxyIPVS=false with ipvs on 1.37', input: { version: '1.37.0', mode: 'ipvs', featureGates: { KubeProxyIPVS: false } }, message: /KubeProxyIPVS=false.*refuse IPVS mode/ },
    { name: 'KubeProxyIPVS before 1.37', input: { version: '1.36.0', mode: 'ipvs', featureGates: { KubeProxyIPVS: true } }, message: /KubeProxyIPVS, which kube-proxy 1\.36\.0 does not know \(it appeared in 1\.37\)/ },
    { name: 'NFTablesProxyMode=false once GA', input: { version: '1.33.0', mode: 'iptables', featureGates: { NFTablesProxyMode: false } }, message: /NFTablesProxyMode=false.*GA and locked on since 1\.33/ },
  ];
  for (const c of cases) {
    it(c.name, () => assert.match(planError(c.input), c.message));
  }

  it('nodePortAddresses keywords from 1.37, with each other and with CIDRs, written as given', () => {
    assert.deepEqual(planAndParse({ version: '1.37.2', mode: 'ipvs', nodePortAddresses: ['primary', 'localhost', '10.0.0.0/8'] }).doc.nodePortAddresses, ['primary', 'localhost', '10.0.0.0/8']);
  });
  it('nodePortAddresses primary from 1.31 is written as kube-proxy reads it', () => {
    assert.deepEqual(planAndParse({ version: '1.34.11', mode: 'ipvs', nodePortAddresses: ['primary'] }).doc.nodePortAddresses, ['primary']);
  });

  it('lists every problem at once', () => {
    const message = planError({ version: '1.12.0', mode: 'ipvs', ipvs: { scheduler: 'mh', strictArp: true, udpTimeout: '10s' } });
    assert.match(message, /^kube-proxy 1\.12\.0 cannot run this configuration:/);
    assert.equal(message.split('\n  - ').length - 1, 3);
  });
});

describe('gates and warnings by version', () => {
  const warningsFor = (version: string, mode: ProxyMode, featureGates: Record<string, boolean> = {}) =>
    planKubeProxyConfig({ version: ver(version), mode, featureGates });

  it('adds NFTablesProxyMode=true on 1.29 and 1.30 only, and says so', () => {
    for (const version of ['1.29.0', '1.30.9']) {
      const plan = warningsFor(version, 'nftables');
      assert.deepEqual(plan.featureGates, { NFTablesProxyMode: true });
      assert.ok(plan.warnings.some((w) => /alpha .* adds the feature gate NFTablesProxyMode=true/.test(w)), plan.warnings.join('\n'));
    }
    assert.deepEqual(warningsFor('1.31.0', 'nftables').featureGates, {});
    assert.deepEqual(warningsFor('1.31.0', 'nftables').warnings, []);
  });
  it('warns that IPVS is deprecated from 1.35, not before, and suggests nftables', () => {
    assert.deepEqual(warningsFor('1.34.11', 'ipvs').warnings, []);
    for (const version of ['1.35.0', '1.36.1', '1.37.0']) {
      const [warning, ...rest] = warningsFor(version, 'ipvs').warnings;
      assert.deepEqual(rest, []);
      assert.match(warning ?? '', /IPVS proxy mode is deprecated since Kubernetes 1\.35 .*KUBE_PROXY_MODE=nftables/);
    }
  });
  it('warns that SupportIPVSProxyMode is only noise on 1.11-1.20', () => {
    assert.match(warningsFor('1.15.0', 'ipvs', { SupportIPVSProxyMode: true }).warnings.join(), /GA since 1\.11.*drop it/);
  });
  it('warns about strictARP on 1.13/1.14, where only later patches have it', () => {
    assert.match(planKubeProxyConfig({ version: ver('1.14.4'), mode: 'ipvs', ipvs: { strictArp: true } }).warnings.join(), /later patch releases/);
  });
  it('warns for a release newer than the table', () => {
    assert.match(warningsFor('1.40.0', 'iptables').warnings.join(), /newer than 1\.37/);
  });
});

it('isHostPort accepts IP:port only', () => {
  assert.ok(isHostPort('127.0.0.1:10249'));
  assert.ok(isHostPort('[::1]:10249'));
  for (const bad of ['0.0.0.0', 'localhost:10249', '::1:10249', '[10.0.0.1]:1', '1.2.3.4:0', '1.2.3.4:70000']) assert.ok(!isHostPort(bad), bad);
});
