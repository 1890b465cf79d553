// validateProxyModeForVersion: the one answer doctor, `up --dry-run` and the
// generators share about mode + version + feature gates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import type { ProxyMode } from '../src/config/settings.js';
import { PRE_1_27_IPVS_SCHEDULERS, validateIpvsTuning, validateProxyModeForVersion } from '../src/kubeproxy/validate.js';
import { BOUNDARIES, lastBefore, since } from '../src/kubeproxy/versions.js';

function ver(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  assert.ok(v, text);
  return v;
}

describe('validateProxyModeForVersion', () => {
  interface Row {
    version: string;
    mode: ProxyMode;
    gates?: Record<string, boolean>;
    errors: RegExp[];
    warnings: RegExp[];
    featureGates: Record<string, boolean>;
  }
  const rows: Row[] = [
    { version: '1.7.0', mode: 'ipvs', errors: [/needs Kubernetes 1\.8 or later/], warnings: [], featureGates: {} },
    { version: '1.7.0', mode: 'iptables', gates: { SupportIPVSProxyMode: true }, errors: [/does not know \(it appeared in 1\.8\)/], warnings: [], featureGates: { SupportIPVSProxyMode: true } },
    { version: '1.8.0', mode: 'ipvs', errors: [], warnings: [], featureGates: { SupportIPVSProxyMode: true } },
    { version: '1.9.11', mode: 'ipvs', gates: { Foo: true }, errors: [], warnings: [], featureGates: { SupportIPVSProxyMode: true, Foo: true } },
    { version: '1.9.11', mode: 'iptables', errors: [], warnings: [], featureGates: {} },
    { version: '1.10.0', mode: 'ipvs', errors: [], warnings: [], featureGates: {} },
    { version: '1.10.0', mode: 'ipvs', gates: { SupportIPVSProxyMode: false }, errors: [/turns IPVS mode off/], warnings: [], featureGates: { SupportIPVSProxyMode: false } },
    { version: '1.11.0', mode: 'ipvs', gates: { SupportIPVSProxyMode: true }, errors: [], warnings: [/GA since 1\.11/], featureGates: { SupportIPVSProxyMode: true } },
    { version: '1.20.15', mode: 'ipvs', gates: { SupportIPVSProxyMode: false }, errors: [/turns IPVS mode off/], warnings: [], featureGates: { SupportIPVSProxyMode: false } },
    { version: '1.21.0', mode: 'iptables', gates: { SupportIPVSProxyMode: true }, errors: [/removed after 1\.20/], warnings: [], featureGates: { SupportIPVSProxyMode: true } },
    { version: '1.28.15', mode: 'nftables', errors: [/needs Kubernetes 1\.29 or later/], warnings: [], featureGates: {} },
    { version: '1.28.15', mode: 'iptables', gates: { NFTablesProxyMode: true }, errors: [/does not know \(it appeared in 1\.29\)/], warnings: [], featureGates: { NFTablesProxyMode: true } },
    { version: '1.29.0', mode: 'nftables', errors: [], warnings: [/adds the feature gate NFTablesProxyMode=true/], featureGates: { NFTablesProxyMode: true } },
    { version: '1.29.0', mode: 'nftables', gates: { NFTablesProxyMode: true }, errors: [], warnings: [], featureGates: { NFTablesProxyMode: true } },
    { version: '1.30.0', mode: 'nftables', gates: { NFTablesProxyMode: false }, errors: [/turns nftables mode off/], warnings: [], featureGates: { NFTablesProxyMode: false } },
    { version: '1.31.0', mode: 'nftables', errors: [], warnings: [], featureGates: {} },
    { version: '1.34.0', mode: 'ipvs', errors: [], warnings: [], featureGates: {} },
    { version: '1.35.0', mode: 'ipvs', errors: [], warnings: [/deprecated since Kubernetes 1\.35/], featureGates: {} },
    { version: '1.35.0', mode: 'nftables', errors: [], warnings: [], featureGates: {} },
    { version: '1.37.0', mode: 'ipvs', gates: { KubeProxyIPVS: true }, errors: [], warnings: [/deprecated/], featureGates: { KubeProxyIPVS: true } },
    { version: '1.37.0', mode: 'ipvs', gates: { KubeProxyIPVS: false }, errors: [/KubeProxyIPVS=false/], warnings: [/deprecated/], featureGates: { KubeProxyIPVS: false } },
    { version: '1.37.0', mode: 'iptables', gates: { KubeProxyIPVS: false }, errors: [], warnings: [], featureGates: { KubeProxyIPVS: false } },
    { version: '1.3.0', mode: 'iptables', errors: [/older than 1\.4/], warnings: [], featureGates: {} },
  ];
  for (const row of rows) {
    it(`${row.version} ${row.mode} ${JSON.stringify(row.gates ?? {})}`, () => {
      const result = validateProxyModeForVersion(row.mode, ver(row.version), row.gates ?? {});
      assert.equal(result.errors.length, row.errors.length, result.errors.join('\n'));
      row.errors.forEach((re, i) => assert.match(result.errors[i] ?? '', re));
      assert.equal(result.warnings.length, row.warnings.length, result.warnings.join('\n'));
      row.warnings.forEach((re, i) => assert.match(result.warnings[i] ?? '', re));
      assert.deepEqual(result.featureGates, row.featureGates);
      // The required gate comes first, where a reader expects it.
      assert.deepEqual(Object.keys(result.featureGates), Object.keys(row.featureGates));
    });
  }
  it('does not change the caller\'s gates', () => {
    const gates = { Foo: true };
    validateProxyModeForVersion('ipvs', ver('1.9.0'), gates);
    assert.deepEqual(gates, { Foo: true });
  });
});

describe('validateIpvsTuning', () => {
  it('accepts every kernel scheduler from 1.27 and only the old list before', () => {
    assert.deepEqual(validateIpvsTuning({ scheduler: 'mh' }, 'ipvs', ver('1.27.0')).errors, []);
    for (const scheduler of PRE_1_27_IPVS_SCHEDULERS) {
      assert.deepEqual(validateIpvsTuning({ scheduler }, 'ipvs', ver('1.26.0')).errors, [], scheduler);
    }
    for (const scheduler of ['mh', 'fo', 'ovf', 'twos']) {
      assert.equal(validateIpvsTuning({ scheduler }, 'ipvs', ver('1.26.0')).errors.length, 1, scheduler);
    }
  });
  it('treats empty and zero values as kube-proxy defaults, never as errors', () => {
    const result = validateIpvsTuning({ tcpTimeout: '0s', tcpFinTimeout: '', udpTimeout: '0s', excludeCidrs: [], strictArp: false }, 'ipvs', ver('1.8.0'));
    assert.deepEqual(result, { errors: [], warnings: [] });
  });
  it('is silent in other modes except for a warning naming the settings', () => {
    const result = validateIpvsTuning({ scheduler: 'mh', udpTimeout: '5s' }, 'iptables', ver('1.9.0'));
    assert.deepEqual(result.errors, []);
    assert.match(result.warnings.join(), /IPVS_SCHEDULER \(--scheduler\), IPVS_UDP_TIMEOUT \(--ipvs-udp-timeout\) only apply to IPVS mode/);
  });
});

describe('the boundary table', () => {
  it('has a fact and a source for every boundary', () => {
    for (const [id, b] of Object.entries(BOUNDARIES)) {
      assert.ok(b.fact.length > 10 && b.source.length > 10, id);
      assert.ok(Number.isInteger(b.minor) && b.minor > 0, id);
    }
  });
  it('orders boundaries that build on each other', () => {
    const m = (id: keyof typeof BOUNDARIES) => BOUNDARIES[id].minor;
    assert.ok(m('kubeProxyConfigFile') < m('kubeProxyConfigGroup'));
    assert.ok(m('ipvsAlpha') < m('ipvsGateDefaultOn') && m('ipvsGateDefaultOn') < m('ipvsGateGA') && m('ipvsGateGA') < m('ipvsGateRemoved'));
    assert.ok(m('ipvsStrictArpBackport') < m('ipvsStrictArp'));
    assert.ok(m('nftablesAlpha') < m('nftablesBeta') && m('nftablesBeta') < m('nftablesGA'));
    assert.ok(m('metricsPortFlag') < m('bindAddressFlagsTakePort'));
  });
  it('names releases for messages', () => {
    assert.equal(since('ipvsTimeouts'), '1.18');
    assert.equal(lastBefore('ipvsGateRemoved'), '1.20');
  });
});
