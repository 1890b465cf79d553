// The check after `kube-proxy --cleanup`, on outputs recorded in the lab VM
// (test/fixtures/local/README.md). The same code runs for real on the lab kernel in
// test/lab-local-cleanup.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { HostNetworkState } from '../src/providers/local/host-state.js';
import { findLeftovers, formatLeftoverReport, parseIptablesSave, parseNftTables, readHostNetworkState } from '../src/providers/local/host-state.js';
import { ROOT } from './helpers/cli.js';
import { FakeRunner } from './helpers/fake-runner.js';
import { FixtureHost } from './helpers/fixture-host.js';

const LAB = join(ROOT, 'test', 'fixtures', 'local', 'lab');
const fx = (name: string): string => readFileSync(join(LAB, name), 'utf8');

function recorded(after: boolean): HostNetworkState {
  return {
    procIpVs: fx(after ? 'proc-net-ip_vs-after-cleanup.txt' : 'proc-net-ip_vs.txt'),
    kubeIpvs0: after ? { present: false, addresses: [] } : { present: true, addresses: ['10.96.0.1', '10.96.0.10'] },
    ipsetNames: { command: 'ipset list -n', text: after ? '' : fx('ipset-list-n.txt') },
    iptablesSaves: [
      { command: 'iptables-nft-save', text: fx(after ? 'iptables-nft-save-after-cleanup.txt' : 'iptables-nft-save.txt') },
      { command: 'ip6tables-nft-save', text: '' },
      { command: 'iptables-legacy-save', text: '' },
      { command: 'ip6tables-legacy-save', text: null, missing: true },
    ],
    nftTables: { command: 'nft list tables', text: fx('nft-list-tables.txt') },
  };
}

describe('parsers', () => {
  it('iptables-save: tables, chains and rules', () => {
    const tables = parseIptablesSave(fx('iptables-nft-save.txt'));
    assert.deepEqual(tables.map((t) => t.table), ['mangle', 'filter', 'nat']);
    const nat = tables.find((t) => t.table === 'nat');
    assert.deepEqual(nat?.chains.filter((c) => c.startsWith('KUBE-')), ['KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ', 'KUBE-NODE-PORT', 'KUBE-POSTROUTING', 'KUBE-SERVICES']);
    assert.deepEqual(nat?.rules.find((r) => r.chain === 'PREROUTING'), { chain: 'PREROUTING', rule: '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' });
  });
  it('nft list tables', () => {
    assert.deepEqual(parseNftTables('table ip nat\ntable ip filter\ntable ip kube-proxy\ntable ip6 kube-proxy\n'), ['ip nat', 'ip filter', 'ip kube-proxy', 'ip6 kube-proxy']);
  });
});

describe('findLeftovers on recorded state', () => {
  it('before cleanup: names every kube-proxy virtual server, kube-ipvs0, each KUBE-* ipset, chain and jump rule', () => {
    const report = findLeftovers(recorded(false), { serviceCidr: '10.96.0.0/16' });
    assert.equal(report.clean, false);
    const of = (kind: string) => report.leftovers.filter((l) => l.kind === kind && l.owner === 'kube-proxy').map((l) => l.name);
    assert.deepEqual(of('ipvs-virtual-server').sort(), ['TCP/10.96.0.10:53', 'TCP/10.96.0.10:9153', 'TCP/10.96.0.1:443', 'TCP/192.168.50.10:30080', 'UDP/10.96.0.10:53']);
    assert.deepEqual(of('dummy-device'), ['kube-ipvs0']);
    assert.deepEqual(of('ipset'), ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP', 'KUBE-IPVS-IPS']);
    assert.deepEqual(of('iptables-chain').sort(), [
      'filter KUBE-FORWARD (iptables-nft-save)',
      'filter KUBE-IPVS-FILTER (iptables-nft-save)',
      'filter KUBE-IPVS-OUT-FILTER (iptables-nft-save)',
      'filter KUBE-NODE-PORT (iptables-nft-save)',
      'filter KUBE-PROXY-FIREWALL (iptables-nft-save)',
      'filter KUBE-SOURCE-RANGES-FIREWALL (iptables-nft-save)',
      'nat KUBE-LOAD-BALANCER (iptables-nft-save)',
      'nat KUBE-MARK-MASQ (iptables-nft-save)',
      'nat KUBE-NODE-PORT (iptables-nft-save)',
      'nat KUBE-POSTROUTING (iptables-nft-save)',
      'nat KUBE-SERVICES (iptables-nft-save)',
    ]);
    assert.equal(of('iptables-rule').length, 9, 'the nine jump rules of iptablesJumpChain');
    const why = report.leftovers.find((l) => l.name === 'TCP/192.168.50.10:30080')?.detail ?? '';
    assert.match(why, /NodePort range 30000-32767; rr; real servers 10\.244\.0\.6:8080/);
    assert.deepEqual(report.otherVirtualServers, ['TCP/192.0.2.50:80 (wlc; no real servers)']);
    assert.deepEqual(report.leftovers.filter((l) => l.owner === 'kubelet').map((l) => l.name), [
      'mangle KUBE-KUBELET-CANARY (iptables-nft-save)',
      'filter KUBE-FIREWALL (iptables-nft-save)',
      'filter INPUT -> KUBE-FIREWALL (iptables-nft-save)',
    ]);
    assert.deepEqual(report.unreadable, []);
  });
  it('after cleanup: clean, with the kubelet\'s chains reported apart', () => {
    const report = findLeftovers(recorded(true), { serviceCidr: '10.96.0.0/16' });
    assert.equal(report.clean, true);
    assert.deepEqual(report.leftovers.filter((l) => l.owner === 'kube-proxy'), []);
    const text = formatLeftoverReport(report);
    assert.match(text, /^no kube-proxy state is left on this host$/m);
    assert.match(text, /left by the kubelet .*\n  iptables-chain mangle KUBE-KUBELET-CANARY/);
  });
  it("the real kubelet's KUBE-IPTABLES-HINT (mangle) is the kubelet's, not a kube-proxy leftover", () => {
    // A real kubelet 1.34 makes it in mangle for IPv4 and IPv6 (pkg/kubelet/kubelet_network_linux.go);
    // before this, `down` of a real local cluster failed naming it as kube-proxy state.
    const after = recorded(true);
    const withHint = after.iptablesSaves.map((r) => (r.text === null ? r : { ...r, text: r.text.replace(':KUBE-KUBELET-CANARY - [0:0]', ':KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]') }));
    assert.ok(withHint.some((r) => r.text?.includes('KUBE-IPTABLES-HINT')));
    const report = findLeftovers({ ...after, iptablesSaves: withHint }, { serviceCidr: '10.96.0.0/16' });
    assert.equal(report.clean, true);
    assert.ok(report.leftovers.some((l) => l.owner === 'kubelet' && l.name === 'mangle KUBE-IPTABLES-HINT (iptables-nft-save)'));
  });
  it("virtual servers on kube-ipvs0 addresses recorded before cleanup count as kube-proxy's; nftables mode's table too", () => {
    const state: HostNetworkState = {
      ...recorded(true),
      procIpVs: 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  AC1E0001:0050 rr\n',
      nftTables: { command: 'nft list tables', text: 'table ip kube-proxy\ntable ip filter\n' },
    };
    const report = findLeftovers(state, { serviceCidr: '10.96.0.0/16', kubeIpvs0Addresses: ['172.30.0.1'] });
    assert.equal(report.clean, false);
    assert.deepEqual(report.leftovers.filter((l) => l.owner === 'kube-proxy').map((l) => `${l.kind} ${l.name}`), ['ipvs-virtual-server TCP/172.30.0.1:80', 'nft-table ip kube-proxy']);
  });
  it('what cannot be read is said, never counted as clean evidence', () => {
    const state: HostNetworkState = {
      ...recorded(true),
      ipsetNames: { command: 'ipset list -n', text: null, error: 'exit 1: ipset v7.17: Kernel error received: Operation not permitted' },
      iptablesSaves: [{ command: 'iptables-nft-save', text: null, missing: true }],
    };
    const report = findLeftovers(state, { serviceCidr: '10.96.0.0/16' });
    assert.deepEqual(report.unreadable, ['ipset list -n: exit 1: ipset v7.17: Kernel error received: Operation not permitted', 'iptables: iptables-nft-save: not installed']);
    assert.match(formatLeftoverReport(report), /could not be checked:\n {2}ipset list -n: exit 1/);
  });
});

describe('readHostNetworkState through a Host', () => {
  it('reads /proc/net/ip_vs, kube-ipvs0, ipsets, every iptables backend and nft', async () => {
    const runner = new FakeRunner([
      { match: ['ip', '-o', 'addr', 'show', 'dev', 'kube-ipvs0'], respond: { stdout: fx('ip-o-addr-kube-ipvs0.txt') } },
      { match: ['ipset', 'list', '-n'], respond: { stdout: fx('ipset-list-n.txt') } },
      { match: ['iptables-nft-save'], respond: { stdout: fx('iptables-nft-save.txt') } },
      { match: ['ip6tables-nft-save'], respond: { stdout: '' } },
      { match: ['iptables-legacy-save'], respond: { exitCode: 1, stderr: "iptables-legacy-save: can't initialize iptables table `filter': Table does not exist" } },
      { match: ['ip6tables-legacy-save'], respond: { notFound: true } },
      { match: ['nft', 'list', 'tables'], respond: { stdout: fx('nft-list-tables.txt') } },
    ]);
    const host = new FixtureHost({ '/proc/net/ip_vs': fx('proc-net-ip_vs.txt') }, { '/sys/class/net': ['lo', 'eth0', 'kube-ipvs0'] }, runner);
    const state = await readHostNetworkState(host);
    assert.deepEqual(state.kubeIpvs0, { present: true, addresses: ['10.96.0.1', '10.96.0.10'] });
    assert.equal(state.iptablesSaves.length, 4);
    const report = findLeftovers(state, { serviceCidr: '10.96.0.0/16' });
    assert.equal(report.clean, false);
    assert.deepEqual(report.unreadable, ["iptables-legacy-save: exit 1: iptables-legacy-save: can't initialize iptables table `filter': Table does not exist"]);
  });
});
