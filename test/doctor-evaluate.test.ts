import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSettings } from '../src/config/resolve.js';
import type { Settings } from '../src/config/settings.js';
import { evaluateDoctor } from '../src/doctor/doctor.js';
import type { Check } from '../src/doctor/check.js';
import { evaluateKernel, evaluateMode, evaluatePrivileges, evaluateUserspace } from '../src/doctor/evaluate.js';
import type { Tools } from '../src/doctor/evaluate.js';
import type { DoctorFacts } from '../src/doctor/gather.js';
import type { ToolFact } from '../src/doctor/tools.js';
import { probeKernel } from '../src/kernel/probe.js';
import { thisMachineSite } from '../src/kernel/site.js';
import { debianHost, devHost } from './helpers/fixture-host.js';

function settings(env: Record<string, string> = {}): Settings {
  return resolveSettings({ flags: {}, env: { HOME: '/home/u', ...env }, dotenv: null }).values;
}

const byId = (checks: readonly Check[], id: string): Check => {
  const found = checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
};

describe('mode checks by Kubernetes version (SupportIPVSProxyMode and deprecation)', () => {
  const cases: { version: string; gates?: string; gate: Check['status']; gateText: RegExp; version_: Check['status'] }[] = [
    { version: '1.8.0', gate: 'pass', gateText: /SupportIPVSProxyMode=true is required on 1\.8-1\.9; kube-local-up passes it/, version_: 'pass' },
    { version: '1.9.11', gate: 'pass', gateText: /required on 1\.8-1\.9/, version_: 'pass' },
    { version: '1.9', gates: 'SupportIPVSProxyMode=false', gate: 'fail', gateText: /SupportIPVSProxyMode=false.*only with SupportIPVSProxyMode=true/, version_: 'pass' },
    { version: '1.10.0', gate: 'pass', gateText: /beta and on by default in 1\.10/, version_: 'pass' },
    { version: '1.10.0', gates: 'SupportIPVSProxyMode=false', gate: 'fail', gateText: /turns IPVS mode off/, version_: 'pass' },
    { version: '1.11.0', gate: 'pass', gateText: /GA \(1\.11-1\.20\); not passed/, version_: 'pass' },
    { version: '1.20.15', gates: 'SupportIPVSProxyMode=true', gate: 'warn', gateText: /GA since 1\.11/, version_: 'pass' },
    { version: '1.21.0', gate: 'pass', gateText: /removed after 1\.20 and is not passed/, version_: 'pass' },
    { version: '1.21.0', gates: 'SupportIPVSProxyMode=true', gate: 'fail', gateText: /refuses to start/, version_: 'pass' },
    { version: '1.34.0', gate: 'pass', gateText: /removed after 1\.20/, version_: 'pass' },
    { version: '1.35.0', gate: 'pass', gateText: /removed after 1\.20/, version_: 'warn' },
    { version: '1.36.2', gate: 'pass', gateText: /removed after 1\.20/, version_: 'warn' },
  ];
  for (const c of cases) {
    it(`ipvs on ${c.version}${c.gates === undefined ? '' : ` with ${c.gates}`}`, () => {
      const checks = evaluateMode(settings({ KUBE_PROXY_MODE: 'ipvs', KUBE_VERSION: c.version, ...(c.gates === undefined ? {} : { FEATURE_GATES: c.gates }) }));
      const gate = byId(checks, 'mode.feature-gate');
      assert.equal(gate.status, c.gate);
      assert.match(gate.detail, c.gateText);
      assert.equal(byId(checks, 'mode.version').status, c.version_);
    });
  }
  it('deprecation from 1.35 is a warning that suggests nftables', () => {
    const version = byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'ipvs', KUBE_VERSION: '1.35' })), 'mode.version');
    assert.match(version.detail, /deprecated since Kubernetes 1\.35/);
    assert.match(version.fix ?? '', /nftables/);
  });
  it('ipvs before 1.8 and nftables before 1.29 fail with the version that fixes it', () => {
    const old = byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'ipvs', KUBE_VERSION: '1.7.16' })), 'mode.version');
    assert.equal(old.status, 'fail');
    assert.match(old.detail, /set KUBE_VERSION to 1\.8 or later/);
    const nft = byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'nftables', KUBE_VERSION: '1.28.0' })), 'mode.version');
    assert.equal(nft.status, 'fail');
    assert.match(nft.detail, /1\.29 or later/);
    assert.equal(byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'nftables', KUBE_VERSION: '1.31.0' })), 'mode.version').status, 'pass');
  });
  it('a setting the version cannot honour fails mode.version (same rule as the config generators)', () => {
    const strict = byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'ipvs', KUBE_VERSION: '1.12.0', IPVS_STRICT_ARP: 'true' })), 'mode.version');
    assert.equal(strict.status, 'fail');
    assert.match(strict.detail, /IPVS_STRICT_ARP=true/);
  });
  it('a removed gate fails even outside ipvs mode, since kube-proxy refuses unknown gates', () => {
    const gate = byId(evaluateMode(settings({ KUBE_PROXY_MODE: 'iptables', KUBE_VERSION: '1.30', FEATURE_GATES: 'SupportIPVSProxyMode=true' })), 'mode.feature-gate');
    assert.equal(gate.status, 'fail');
  });
});

describe('kernel checks on recorded kernels', () => {
  it('development machine: fails naming CONFIG_IP_VS and the missing module support', async () => {
    const checks = evaluateKernel(settings({ KUBE_PROXY_MODE: 'ipvs' }), await probeKernel(devHost()));
    const ipvs = byId(checks, 'kernel.ipvs');
    assert.equal(ipvs.status, 'fail');
    assert.match(ipvs.detail, /CONFIG_IP_VS is not set/);
    assert.match(ipvs.fix ?? '', /lab/);
    assert.equal(byId(checks, 'kernel.modules-support').status, 'fail');
    assert.match(byId(checks, 'kernel.modules-support').detail, /CONFIG_MODULES is not set/);
    assert.equal(byId(checks, 'kernel.module.ip_vs_rr').status, 'fail');
    assert.equal(byId(checks, 'kernel.module.nf_conntrack').status, 'pass');
    assert.ok(!checks.some((c) => c.id === 'kernel.module.nf_conntrack_ipv4'));
  });
  it('Debian 6.1 before loading: every IPVS module is a warning saying "loadable", nothing fails', async () => {
    const checks = evaluateKernel(settings(), await probeKernel(debianHost('before')));
    for (const name of ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']) {
      const c = byId(checks, `kernel.module.${name}`);
      assert.equal(c.status, 'warn', name);
      assert.match(c.detail, /loadable, not loaded/);
      assert.match(c.fix ?? '', /local-up modules load/);
    }
    assert.ok(checks.filter((c) => c.id.startsWith('kernel.')).every((c) => c.status !== 'fail'));
  });
  it('Debian 6.1 after loading: every kernel. check passes', async () => {
    const checks = evaluateKernel(settings(), await probeKernel(debianHost('after')));
    assert.deepEqual(checks.filter((c) => c.status !== 'pass').map((c) => c.id), []);
    assert.match(byId(checks, 'kernel.module.nf_conntrack').title, /4\.19 or later/);
  });
  it('a scheduler the kernel lacks fails on its own module, with a fix naming the scheduler', async () => {
    const checks = evaluateKernel(settings({ IPVS_SCHEDULER: 'twos' }), await probeKernel(debianHost('after')));
    const twos = byId(checks, 'kernel.module.ip_vs_twos');
    assert.equal(twos.status, 'fail');
    assert.match(twos.detail, /CONFIG_IP_VS_TWOS is not set/);
    assert.match(twos.fix ?? '', /no "twos" IPVS scheduler/);
    assert.equal(byId(checks, 'kernel.ipvs').status, 'pass');
  });
  it('a kernel that could not be read is one failing check', () => {
    const checks = evaluateKernel(settings(), { error: 'cannot tell the kernel release' });
    assert.deepEqual(checks.map((c) => [c.id, c.status]), [['kernel.release', 'fail']]);
  });
});

const tool = (name: string, versionText: string | null, path: string | null = `/usr/sbin/${name}`, failure: string | null = null): ToolFact => ({ name, path, foundVia: path === null ? null : 'PATH', versionText, failure });

function tools(overrides: Partial<Tools> = {}): Tools {
  return {
    ipset: tool('ipset', 'ipset v7.17, protocol version: 7'),
    iptables: tool('iptables', 'iptables v1.8.9 (nf_tables)'),
    modprobe: tool('modprobe', 'kmod version 30'),
    conntrack: tool('conntrack', 'conntrack v1.4.7 (conntrack-tools)'),
    ipvsadm: tool('ipvsadm', null),
    ...overrides,
  };
}

describe('user-space tools', () => {
  it('passes with the versions recorded on Debian 12', () => {
    assert.deepEqual(evaluateUserspace(tools(), false).map((c) => c.status), ['pass', 'pass', 'pass', 'pass', 'pass']);
  });
  it('ipset: missing, too old, failing', () => {
    assert.equal(byId(evaluateUserspace(tools({ ipset: tool('ipset', null, null) }), false), 'userspace.ipset').status, 'fail');
    const old = byId(evaluateUserspace(tools({ ipset: tool('ipset', 'ipset v5.4.1, protocol version: 5') }), false), 'userspace.ipset');
    assert.equal(old.status, 'fail');
    assert.match(old.detail, /needs 6\.0 or later/);
    assert.equal(byId(evaluateUserspace(tools({ ipset: tool('ipset', 'ipset v6.0, protocol version: 6') }), false), 'userspace.ipset').status, 'pass');
    const broken = byId(evaluateUserspace(tools({ ipset: tool('ipset', null, '/usr/sbin/ipset', '/usr/sbin/ipset --version exited with 1') }), false), 'userspace.ipset');
    assert.equal(broken.status, 'fail');
  });
  it('ipvsadm is optional; modprobe matters only when modules need loading', () => {
    assert.equal(byId(evaluateUserspace(tools({ ipvsadm: tool('ipvsadm', null, null) }), false), 'userspace.ipvsadm').status, 'warn');
    assert.equal(byId(evaluateUserspace(tools({ modprobe: tool('modprobe', null, null) }), false), 'userspace.modprobe').status, 'warn');
    assert.equal(byId(evaluateUserspace(tools({ modprobe: tool('modprobe', null, null) }), true), 'userspace.modprobe').status, 'fail');
  });
});

describe('privileges', () => {
  it('root and passwordless sudo pass', () => {
    assert.equal(evaluatePrivileges({ uid: 0, sudo: 'absent' }, true).status, 'pass');
    assert.equal(evaluatePrivileges({ uid: 1000, sudo: 'passwordless' }, true).status, 'pass');
  });
  it('no way to become root fails only when modules need loading', () => {
    assert.equal(evaluatePrivileges({ uid: 1000, sudo: 'absent' }, true).status, 'fail');
    assert.equal(evaluatePrivileges({ uid: 1000, sudo: 'absent' }, false).status, 'warn');
    assert.equal(evaluatePrivileges({ uid: 1000, sudo: 'needs-password' }, true).status, 'warn');
  });
});

describe('the whole report', () => {
  it('ok only when no check fails; exit-code semantics follow', async () => {
    const facts: DoctorFacts = {
      kernel: await probeKernel(debianHost('after')),
      tools: tools(),
      privileges: { uid: 0, sudo: 'passwordless' },
      providerChecks: [{ id: 'provider.etcd', title: 'etcd', status: 'pass', detail: '/usr/bin/etcd (found via PATH)', fix: null }],
      site: thisMachineSite(debianHost('after')),
    };
    const good = evaluateDoctor(settings({ KUBE_PROXY_MODE: 'ipvs' }), facts);
    assert.equal(good.ok, true, JSON.stringify(good.checks.filter((c) => c.status === 'fail')));
    const bad = evaluateDoctor(settings({ KUBE_PROXY_MODE: 'ipvs' }), { ...facts, tools: tools({ ipset: tool('ipset', null, null) }) });
    assert.equal(bad.ok, false);
    for (const c of bad.checks) assert.deepEqual(Object.keys(c), ['id', 'title', 'status', 'detail', 'fix']);
  });
});

describe('provider tools in doctor', () => {
  it('are advisory: a missing engine or kind is a warning saying up stops on it, and does not make doctor fail', async () => {
    const facts: DoctorFacts = {
      kernel: await probeKernel(debianHost('after')),
      tools: tools(),
      privileges: { uid: 0, sudo: 'passwordless' },
      providerChecks: [{ id: 'provider.etcd', title: 'etcd', status: 'fail', detail: 'etcd not found in PATH', fix: 'apt-get install etcd-server' }],
      site: thisMachineSite(debianHost('after')),
    };
    const report = evaluateDoctor(settings({ KUBE_PROXY_MODE: 'ipvs' }), facts);
    const etcd = byId(report.checks, 'provider.etcd');
    assert.equal(etcd.status, 'warn');
    assert.match(etcd.detail, /`up` stops on this/);
    assert.equal(report.ok, true);
  });
});
