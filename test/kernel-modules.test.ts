import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyModule, conntrackModule, parseKernelConfig, parseKernelRelease, parseModulesBuiltin, parseProcModules, requiredModules } from '../src/kernel/modules.js';
import { kernelHz, probeKernel } from '../src/kernel/probe.js';
import { debianHost, devHost, fixture } from './helpers/fixture-host.js';

const kernel = (release: string) => {
  const parsed = parseKernelRelease(release);
  assert.ok(parsed, release);
  return parsed;
};

describe('the module set per kernel version and scheduler', () => {
  const cases: [string, string, string[]][] = [
    ['3.10.0-1160.el7.x86_64', 'rr', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack_ipv4']],
    ['4.18.0-240.el8.x86_64', 'rr', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack_ipv4']],
    ['4.19.0-27-amd64', 'rr', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']],
    ['6.1.0-56-amd64', 'lc', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'ip_vs_lc', 'nf_conntrack']],
    ['6.1.0-56-amd64', 'sh', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']],
    ['5.15.0-1034-azure', 'mh', ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'ip_vs_mh', 'nf_conntrack']],
  ];
  for (const [release, scheduler, expected] of cases) {
    it(`${release} with ${scheduler}`, () => assert.deepEqual(requiredModules(kernel(release), scheduler), expected));
  }
  it('switches to nf_conntrack exactly at 4.19', () => {
    assert.equal(conntrackModule({ major: 4, minor: 18 }), 'nf_conntrack_ipv4');
    assert.equal(conntrackModule({ major: 4, minor: 19 }), 'nf_conntrack');
    assert.equal(conntrackModule({ major: 5, minor: 0 }), 'nf_conntrack');
    assert.equal(conntrackModule({ major: 3, minor: 99 }), 'nf_conntrack_ipv4');
  });
  it('rejects a release it cannot read', () => assert.equal(parseKernelRelease('unknown'), null));
});

describe('parsers of recorded kernel files', () => {
  it('reads a kernel config, including "is not set" lines', () => {
    const config = parseKernelConfig(fixture('dev-6.18.44-fc', 'config.subset'));
    assert.equal(config.get('CONFIG_MODULES'), 'n');
    assert.equal(config.get('CONFIG_IP_VS'), 'n');
    assert.equal(config.get('CONFIG_NF_CONNTRACK'), 'y');
    assert.equal(config.get('CONFIG_HZ'), '250');
    const debian = parseKernelConfig(fixture('debian-6.1.0-56-amd64', 'config.subset'));
    assert.equal(debian.get('CONFIG_IP_VS'), 'm');
    assert.equal(debian.get('CONFIG_IP_VS_MH'), 'm');
    assert.equal(debian.get('CONFIG_MODULES'), 'y');
  });
  it('reads /proc/modules before and after modprobe', () => {
    const before = parseProcModules(fixture('debian-6.1.0-56-amd64', 'proc-modules-before'));
    const after = parseProcModules(fixture('debian-6.1.0-56-amd64', 'proc-modules-after'));
    assert.ok(!before.has('ip_vs'));
    for (const name of ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']) assert.ok(after.has(name), name);
    assert.ok(before.has('9p') && before.has('overlay'), 'the lab initramfs modules are listed');
  });
  it('reads modules.builtin paths as module names', () => {
    const builtin = parseModulesBuiltin(fixture('debian-6.1.0-56-amd64', 'modules.builtin'));
    assert.ok(builtin.size > 100);
    assert.ok(!builtin.has('ip_vs'), 'Debian builds IPVS as modules');
    for (const name of builtin.keys()) assert.doesNotMatch(name, /[-/.]/);
  });
});

describe('module states from recorded kernels', () => {
  it('Debian 6.1 before loading: IPVS modules loadable, with the file as evidence', async () => {
    const facts = await probeKernel(debianHost('before'));
    const ipvs = classifyModule('ip_vs', facts);
    assert.equal(ipvs.state, 'loadable');
    assert.match(ipvs.evidence, /kernel\/net\/netfilter\/ipvs\/ip_vs\.ko/);
    assert.equal(classifyModule('nf_conntrack', facts).state, 'loadable');
    assert.equal(kernelHz(facts), 250);
  });
  it('Debian 6.1 after modprobe: loaded', async () => {
    const facts = await probeKernel(debianHost('after'));
    for (const name of requiredModules(facts.release, 'rr')) assert.equal(classifyModule(name, facts).state, 'loaded', name);
  });
  it('a scheduler this kernel does not have is absent, and says why', async () => {
    const facts = await probeKernel(debianHost('before'));
    const twos = classifyModule('ip_vs_twos', facts);
    assert.equal(twos.state, 'absent');
    assert.match(twos.evidence, /CONFIG_IP_VS_TWOS is not set \(\/boot\/config-6\.1\.0-56-amd64\)/);
    assert.equal(classifyModule('ip_vs_mh', facts).state, 'loadable');
  });
  it('without any kernel config, still decides from the module tree', async () => {
    const facts = await probeKernel(debianHost('before', { withConfig: false }));
    assert.equal(facts.config, null);
    assert.equal(classifyModule('ip_vs_rr', facts).state, 'loadable');
    assert.match(classifyModule('ip_vs_twos', facts).evidence, /no kernel config found/);
  });
  it('the development machine: no IPVS, no module support, conntrack built in', async () => {
    const facts = await probeKernel(devHost());
    assert.equal(facts.loaded, null);
    const ipvs = classifyModule('ip_vs', facts);
    assert.equal(ipvs.state, 'absent');
    assert.match(ipvs.evidence, /CONFIG_IP_VS is not set \(\/proc\/config\.gz\)/);
    assert.match(ipvs.evidence, /CONFIG_MODULES is not set/);
    const conntrack = classifyModule('nf_conntrack', facts);
    assert.equal(conntrack.state, 'builtin');
    assert.match(conntrack.evidence, /CONFIG_NF_CONNTRACK=y/);
  });
});
