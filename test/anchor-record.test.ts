// The side-by-side record (src/anchor/record.ts) and its document (src/anchor/doc.ts):
// what hack/lab-local/anchor-guest.sh prints, read into facts per side, and the sentences
// the document draws from them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AnchorResult } from '../src/anchor/doc.js';
import { readAnchorResult, renderAnchorDoc } from '../src/anchor/doc.js';
import { readAnchorOutput, readAssertOutcome, readLeftovers } from '../src/anchor/record.js';
import { ROOT } from './helpers/cli.js';

describe('readLeftovers', () => {
  it('reads each kind of leftover line node.sh prints', () => {
    const l = readLeftovers(
      [
        'process containerd-shim: 812 907 ',
        'process coredns: 955 ',
        'ipvs (/proc/net/ip_vs):',
        'TCP  0A000001:01BB rr',
        '  -> C0A8320A:192B      Masq    1      0          0',
        'UDP  0A00000A:0035 rr',
        'ipvs (ipvsadm -Sn):',
        '-A -t 10.0.0.1:443 -s rr',
        '-a -t 10.0.0.1:443 -r 192.168.50.10:6443 -m -w 1',
        '-A -u 10.0.0.10:53 -s rr',
        'ipset: KUBE-CLUSTER-IP KUBE-LOOP-BACK ',
        'iptables-nft-save chains: KUBE-POSTROUTING KUBE-SERVICES ',
        "iptables-nft-save: the kubelet's own chains (not kube-proxy's): KUBE-FIREWALL KUBE-KUBELET-CANARY ",
        'link kube-ipvs0: kube-ipvs0       DOWN           10.0.0.1/32 10.0.0.10/32 ',
      ],
      1,
    );
    assert.equal(l.clean, false);
    assert.deepEqual(l.processes, [{ name: 'containerd-shim', count: 2 }, { name: 'coredns', count: 1 }]);
    assert.equal(l.virtualServers, 2, 'two virtual servers in /proc/net/ip_vs (the -> line is a real server)');
    assert.deepEqual(l.ipvsTable, ['-A -t 10.0.0.1:443 -s rr', '-a -t 10.0.0.1:443 -r 192.168.50.10:6443 -m -w 1', '-A -u 10.0.0.10:53 -s rr']);
    assert.deepEqual(l.ipsets, ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK']);
    assert.deepEqual(l.chains, [{ tool: 'iptables-nft-save', names: ['KUBE-POSTROUTING', 'KUBE-SERVICES'] }]);
    assert.deepEqual(l.kubeletChains, [{ tool: 'iptables-nft-save', names: ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY'] }]);
    assert.deepEqual(l.kubeIpvs0, ['10.0.0.1/32', '10.0.0.10/32']);
  });

  it("the kubelet's own chains alone are not leftovers", () => {
    const l = readLeftovers(["iptables-nft-save: the kubelet's own chains (not kube-proxy's): KUBE-FIREWALL "], 0);
    assert.equal(l.clean, true);
    assert.deepEqual(l.kubeletChains, [{ tool: 'iptables-nft-save', names: ['KUBE-FIREWALL'] }]);
  });

  it('no lines and exit 0 is clean', () => {
    const l = readLeftovers([], 0);
    assert.equal(l.clean, true);
    assert.equal(l.kubeIpvs0, null);
  });

  it('refuses lines that contradict the exit code', () => {
    assert.throws(() => readLeftovers([], 1), /exited 1 but its lines say nothing/);
    assert.throws(() => readLeftovers(['ipset: KUBE-LOOP-BACK'], 0), /exited 0 but its lines say something/);
  });
});

describe('readAssertOutcome', () => {
  it('reads the live JSON of assert: the node, its counts and every finding', () => {
    const json = JSON.stringify({
      ok: false,
      kubeconfig: '/k',
      nodes: [
        {
          node: 'n',
          families: ['IPv4'],
          ok: false,
          failures: 1,
          warnings: 1,
          counts: { expectedVirtualServers: 4, actualVirtualServers: 3, matchedVirtualServers: 2, ignoredVirtualServers: 0 },
          kubeIpvs0Addresses: [],
          services: [
            { service: { namespace: 'default', name: 'kubernetes' }, label: 'default/kubernetes https', virtualServers: 1, ok: true, findings: [] },
            { service: { namespace: 'kube-system', name: 'kube-dns' }, label: 'kube-system/kube-dns dns', virtualServers: 2, ok: false, findings: [{ severity: 'failure', message: 'missing virtual server UDP 10.0.0.10:53' }] },
            { service: null, label: '(no Service)', virtualServers: 0, ok: true, findings: [{ severity: 'warning', message: 'unexpected TCP 1.2.3.4:80' }] },
          ],
          notes: [],
        },
      ],
    });
    const a = readAssertOutcome(json, 1, []);
    assert.equal(a.ok, false);
    assert.equal(a.exitCode, 1);
    assert.equal(a.failures, 1);
    assert.equal(a.expectedVirtualServers, 4);
    assert.equal(a.matchedVirtualServers, 2);
    assert.equal(a.servicePorts, 2);
    assert.deepEqual(a.findings, ['FAIL kube-system/kube-dns dns: missing virtual server UDP 10.0.0.10:53', 'WARN (no Service): unexpected TCP 1.2.3.4:80']);
  });

  it('without JSON it keeps what assert said on stderr', () => {
    const a = readAssertOutcome('', 3, ['error: cannot read the cluster', '']);
    assert.equal(a.ok, null);
    assert.equal(a.error, 'error: cannot read the cluster');
  });
});

const GUEST_OUTPUT = [
  'some step output',
  '@@anchor node kubernetes v1.34.11',
  '@@anchor node cpus 2',
  '@@anchor node images registry.k8s.io/pause:3.10.1 registry.k8s.io/coredns/coredns:v1.12.1 ',
  '@@anchor ours started 1000',
  '@@anchor ours node_name lab',
  '@@anchor ours command_exit 0',
  '@@anchor ours command_seconds 300',
  '@@anchor ours ready_seconds 250',
  '@@anchor ours proxy_mode ipvs',
  '@@anchor ours virtual_servers 3',
  '@@anchor ours assert_exit 0',
  '@@begin ours assert_json',
  '{"ok":true,"nodes":[{"ok":true,"failures":0,"warnings":0,"counts":{"expectedVirtualServers":3,"actualVirtualServers":3,"matchedVirtualServers":3},"services":[{"service":{},"label":"a","findings":[]},{"service":{},"label":"b","findings":[]}]}]}',
  '@@end ours assert_json',
  '@@anchor ours stop_exit 0',
  '@@anchor ours stop_seconds 40',
  '@@anchor ours components_gone_seconds 0',
  '@@anchor ours leftovers_exit 0',
  '@@begin ours leftovers',
  '@@end ours leftovers',
  '@@anchor ours cni0 present',
  '@@anchor ours cni_config 10-kube-local-up.conflist ',
  '@@anchor ours sandboxes 0',
  '@@anchor upstream started 2000',
  '@@anchor upstream node_name 127.0.0.1',
  '@@anchor upstream command_exit 0',
  '@@anchor upstream command_seconds 420',
  '@@anchor upstream ready_seconds 200',
  '@@anchor upstream proxy_mode ipvs',
  '@@anchor upstream virtual_servers 3',
  '@@anchor upstream assert_exit 0',
  '@@begin upstream assert_json',
  '{"ok":true,"nodes":[{"ok":true,"failures":0,"warnings":0,"counts":{"expectedVirtualServers":3,"actualVirtualServers":3,"matchedVirtualServers":3},"services":[{"service":{},"label":"a","findings":[]}]}]}',
  '@@end upstream assert_json',
  '@@anchor upstream stop_exit 0',
  '@@anchor upstream stop_seconds 5',
  '@@anchor upstream components_gone_seconds never',
  '@@anchor upstream leftovers_exit 1',
  '@@begin upstream leftovers',
  'ipvs (/proc/net/ip_vs):',
  'TCP  0A000001:01BB rr',
  'ipvs (ipvsadm -Sn):',
  '-A -t 10.0.0.1:443 -s rr',
  'ipset: KUBE-LOOP-BACK',
  'link kube-ipvs0: kube-ipvs0 DOWN 10.0.0.1/32',
  '@@end upstream leftovers',
  '@@begin upstream command_output',
  '@@anchor upstream not-a-fact inside a block',
  'Local Kubernetes cluster is running. Press Ctrl-C to shut it down.',
  '@@end upstream command_output',
  '',
].join('\n');

describe('readAnchorOutput', () => {
  const record = readAnchorOutput(GUEST_OUTPUT);

  it('reads the node and both sides, facts and blocks', () => {
    assert.equal(record.node.kubernetes, 'v1.34.11');
    assert.equal(record.node.cpus, 2);
    assert.deepEqual(record.node.images, ['registry.k8s.io/pause:3.10.1', 'registry.k8s.io/coredns/coredns:v1.12.1']);
    const ours = record.sides.ours;
    const upstream = record.sides.upstream;
    assert.ok(ours !== undefined && upstream !== undefined);
    assert.equal(ours.readySeconds, 250);
    assert.equal(ours.assert?.ok, true);
    assert.equal(ours.assert?.servicePorts, 2);
    assert.equal(ours.leftovers?.clean, true);
    assert.equal(ours.cni0, true);
    assert.deepEqual(ours.cniConfig, ['10-kube-local-up.conflist']);
    assert.equal(upstream.componentsGoneSeconds, null, '"never" is not a number of seconds');
    assert.equal(upstream.leftovers?.virtualServers, 1);
    assert.deepEqual(upstream.leftovers?.kubeIpvs0, ['10.0.0.1/32']);
    // A line that looks like a fact inside a block belongs to the block.
    assert.deepEqual(upstream.commandOutput, ['@@anchor upstream not-a-fact inside a block', 'Local Kubernetes cluster is running. Press Ctrl-C to shut it down.']);
  });

  it('leaves out a side that never started', () => {
    const only = readAnchorOutput(GUEST_OUTPUT.split('\n').filter((l) => !l.startsWith('@@anchor upstream started')).join('\n'));
    assert.equal(only.sides.upstream, undefined);
    assert.notEqual(only.sides.ours, undefined);
  });

  it('refuses output cut inside a block', () => {
    assert.throws(() => readAnchorOutput('@@begin ours leftovers\nipset: X\n'), /ends inside the block "ours leftovers"/);
  });

  it('the document says where we are slower and what the script left', () => {
    const result: AnchorResult = { schema: 1, date: '2026-12-02', lab: { memoryMb: 3072, cpus: 2, accel: 'tcg', vmSeconds: 1 }, upstreamModule: 'k8s.io/kubernetes@v1.34.11', cfssl: 'v1.6.5', record };
    const doc = renderAnchorDoc(readAnchorResult(JSON.stringify(result), 'test'));
    // Ready: 250 s against 200 s; usable: 300 s against 420 s.
    assert.match(doc, /Our node was Ready 50 s LATER \(250 s against 200 s\): here we are slower\./);
    assert.match(doc, /`local-up up --detach` returned 120 s before the script said the cluster was running/);
    assert.match(doc, /`local-up down` left nothing of kube-proxy's in the kernel/);
    assert.match(doc, /Ctrl-C on the script left 1 IPVS virtual server\(s\), 1 ipset\(s\), the kube-ipvs0 interface\./);
    assert.match(doc, /\| left: kube-ipvs0 \| gone \| still there, 1 address\(es\) \|/);
    assert.match(doc, /```\n-A -t 10\.0\.0\.1:443 -s rr\n```/);
  });

  it('refuses a saved run without both sides', () => {
    const half = { schema: 1, date: '2026-12-02', lab: { memoryMb: 1, cpus: 1, accel: 'tcg', vmSeconds: 1 }, upstreamModule: 'm', cfssl: 'c', record: { node: record.node, sides: { ours: record.sides.ours } } };
    assert.throws(() => readAnchorResult(JSON.stringify(half), 'x.json'), /x\.json: the record must hold both sides/);
  });
});

describe('docs/compared-with-local-up-cluster.md', () => {
  // The saved run and its document travel together: neither without the other, and the
  // document is exactly what the renderer makes of the JSON (node hack/gen-anchor-doc.mjs).
  const json = join(ROOT, 'docs', 'compared-with-local-up-cluster.json');
  const doc = join(ROOT, 'docs', 'compared-with-local-up-cluster.md');

  it('agrees with its saved run: both absent, or the document is exactly the rendering of the JSON', () => {
    assert.equal(existsSync(doc), existsSync(json), `${existsSync(doc) ? 'the document has no saved run' : 'the saved run has no document'}: run node hack/gen-anchor-doc.mjs, or npm run compare:anchor`);
    if (!existsSync(json)) return;
    const expected = renderAnchorDoc(readAnchorResult(readFileSync(json, 'utf8'), 'docs/compared-with-local-up-cluster.json'));
    assert.equal(readFileSync(doc, 'utf8'), expected, 'the document lags behind its JSON: run npm run build && node hack/gen-anchor-doc.mjs');
  });
});

describe('hack/lab-local/anchor-guest.sh and the reader agree', () => {
  // Every fact and block the reader looks up is one the guest prints: a renamed key would
  // otherwise read as "not reached" in the document without any error.
  const guest = readFileSync(join(ROOT, 'hack', 'lab-local', 'anchor-guest.sh'), 'utf8');
  const reader = readFileSync(join(ROOT, 'src', 'anchor', 'record.ts'), 'utf8');
  const printed = new Set([...guest.matchAll(/\b(?:fact|block) (?:"\$side"|ours|upstream|node) ([a-z0-9_]+)/g)].map((m) => m[1]));

  it('prints every fact the reader reads', () => {
    const read = [...reader.matchAll(/\bf\((?:side|'node'), '([a-z0-9_]+)'\)/g)].map((m) => m[1]);
    assert.ok(read.length > 15, `found only ${read.length} facts read in record.ts`);
    assert.deepEqual(read.filter((k) => !printed.has(k)), []);
  });

  it('prints every block the reader reads', () => {
    const read = [...reader.matchAll(/\bb\(side, (?:'([a-z_]+)'|side === 'ours' \? '([a-z_]+)' : '([a-z_]+)')\)/g)].flatMap((m) => m.slice(1).filter((k): k is string => k !== undefined));
    assert.ok(read.length >= 5, `found only ${read.length} blocks read in record.ts`);
    assert.deepEqual(read.filter((k) => !printed.has(k)), []);
  });
});
