// The migration rules (src/migrate/rules.ts) on hand-made clusters. Each expected
// finding is derived from kube-proxy 1.34.11's source, cited next to the case.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IpvsService, IpvsTable } from '../src/ipvs/model.js';
import { readClusterValue } from '../src/kube/read.js';
import type { KubeProxySettingsSeen } from '../src/migrate/kube-proxy-config.js';
import { KubeProxyConfigError, readKubeProxyConfigText } from '../src/migrate/kube-proxy-config.js';
import type { MigrationFinding, MigrationInput, NodeFacts, RuleId, TargetMode } from '../src/migrate/rules.js';
import { checkMigration, kernelMajorMinor, nftVersionOf } from '../src/migrate/rules.js';

type Json = Record<string, unknown>;

const service = (name: string, spec: Json, namespace = 'default'): Json => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type: 'ClusterIP', ...spec } });
const slice = (serviceName: string, ips: readonly string[], port = 8080, namespace = 'default'): Json => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${serviceName}-1`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
  addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }], endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'n1' })),
});
const http = (port: number, nodePort?: number): Json => ({ name: 'http', port, targetPort: 8080, protocol: 'TCP', ...(nodePort === undefined ? {} : { nodePort }) });

const vs = (address: string, port: number, scheduler: string, flags: string[] = []): IpvsService => ({
  protocol: 'TCP', address, port, fwmark: null, family: 4, scheduler, flags, persistent: null, destinations: [],
});
const table = (services: IpvsService[], absent: IpvsTable['absent'] = []): IpvsTable => ({ format: 'ipvsadm-list', services, unknown: [], absent });

const config = (text: string): KubeProxySettingsSeen => readKubeProxyConfigText(`apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n${text}`);

const node = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  name: 'n1', internalIPs: ['192.168.1.10'], addresses: ['127.0.0.1', '192.168.1.10', '::1'], kubeIpvs0: [], table: table([]),
  kernelRelease: '6.1.0-26-amd64', nftVersion: 'nftables v1.0.6 (Lester Gooch #5)', unread: [], ...over,
});

function input(objects: Json[], over: { target?: TargetMode; nodes?: NodeFacts[]; config?: KubeProxySettingsSeen | null; version?: MigrationInput['kubeProxy']['version'] } = {}): MigrationInput {
  return {
    target: over.target ?? 'nftables',
    cluster: readClusterValue({ kind: 'List', items: objects }),
    nodes: over.nodes ?? [node()],
    kubeProxy: {
      version: over.version === undefined ? { major: 1, minor: 34, patch: 11 } : over.version,
      versionFrom: 'test',
      config: over.config === undefined ? config('') : over.config,
      configFrom: 'test',
    },
  };
}

const only = (findings: readonly MigrationFinding[], rule: RuleId): MigrationFinding[] => findings.filter((f) => f.rule === rule);
const run = (i: MigrationInput) => checkMigration(i).findings;

describe('migration rules: endpoint choice', () => {
  // pkg/proxy/nftables/proxier.go: "numgen random mod N vmap"; pkg/proxy/ipvs/proxier.go: ipvs.scheduler on every virtual server.
  it('a non-rr scheduler over two endpoints is a change per Service; rr is one note for kube-proxy', () => {
    const objects = [service('web', { clusterIP: '10.96.0.10', ports: [http(80)] }), slice('web', ['10.244.1.1', '10.244.1.2'])];
    const sh = only(run(input(objects, { config: config('ipvs:\n  scheduler: sh\n') })), 'scheduler');
    assert.equal(sh.length, 1);
    assert.equal(sh[0]?.severity, 'change');
    assert.equal(sh[0]?.subject, 'default/web');
    assert.match(sh[0]?.message ?? '', /sh over 2 ready endpoints.*sessionAffinity: ClientIP.*at random/);
    assert.match(sh[0]?.source ?? '', /pkg\/proxy\/nftables\/proxier\.go/);

    const rr = only(run(input(objects)), 'scheduler');
    assert.deepEqual(rr.map((f) => [f.severity, f.scope]), [['info', 'kube-proxy']]);
    assert.match(rr[0]?.message ?? '', /^1 Service with two or more endpoints use rr/);
  });

  it('the scheduler on the node wins over the configuration (someone edited the table), and iptables cites its own picker', () => {
    const objects = [service('web', { clusterIP: '10.96.0.10', ports: [http(80)] }), slice('web', ['10.244.1.1', '10.244.1.2'])];
    const found = only(run(input(objects, { target: 'iptables', nodes: [node({ table: table([vs('10.96.0.10', 80, 'lc')]) })] })), 'scheduler');
    assert.equal(found.length, 1);
    assert.match(found[0]?.message ?? '', /^scheduler lc .*least loaded/);
    assert.match(found[0]?.source ?? '', /statistic --mode random/);
  });

  it('one endpoint: nothing to choose, nothing reported', () => {
    const objects = [service('web', { clusterIP: '10.96.0.10', ports: [http(80)] }), slice('web', ['10.244.1.1'])];
    assert.deepEqual(only(run(input(objects, { config: config('ipvs:\n  scheduler: wlc\n') })), 'scheduler'), []);
  });

  it('scheduler flags on the table and mh (kube-proxy sets its source-hash flag) are changes; /proc hides flags', () => {
    const objects = [service('web', { clusterIP: '10.96.0.10', ports: [http(80)] }), slice('web', ['10.244.1.1', '10.244.1.2'])];
    const flagged = only(run(input(objects, { nodes: [node({ table: table([vs('10.96.0.10', 80, 'sh', ['sh-port'])]) })] })), 'scheduler-flags');
    assert.deepEqual(flagged.map((f) => [f.severity, f.subject]), [['change', 'default/web']]);
    assert.match(flagged[0]?.message ?? '', /sh-port/);
    const mh = only(run(input(objects, { config: config('ipvs:\n  scheduler: mh\n'), nodes: [node({ table: table([], ['flags']) })] })), 'scheduler-flags');
    assert.deepEqual(mh.map((f) => [f.severity, f.scope]), [['change', 'kube-proxy'], ['info', 'kube-proxy']]);
  });
});

describe('migration rules: affinity', () => {
  // ipvs: persistence per virtual server, template kept while connections are open;
  // nftables: "update @affinity-*" per Service port on new connections, element timeout = timeoutSeconds.
  it('ClientIP affinity is a change with its timeout (default 10800 s), shared across addresses afterwards', () => {
    const objects = [
      service('sticky', { type: 'NodePort', clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [http(80, 30080)] }),
      service('plain', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', ports: [http(80)] }),
      service('none', { clusterIP: '10.96.0.13', ports: [http(80)] }),
    ];
    const found = only(run(input(objects)), 'affinity');
    assert.deepEqual(found.map((f) => f.subject), ['default/sticky', 'default/plain']);
    assert.match(found[0]?.message ?? '', /timeout 60s.*nftables forgets it 60s after the client's last NEW connection.*each node address of its NodePorts/);
    assert.match(found[1]?.message ?? '', /timeout 10800s/);
    assert.doesNotMatch(found[1]?.message ?? '', /one affinity per Service port/);
    assert.match(found[0]?.source ?? '', /affinity-\*/);
  });
});

describe('migration rules: IPVS-only settings', () => {
  it('timeouts change behaviour, sync periods move, excludeCIDRs are flushed by nftables, strictARP stops applying', () => {
    const c = config('ipvs:\n  syncPeriod: 30s\n  tcpTimeout: 900s\n  tcpFinTimeout: 0s\n  udpTimeout: 60s\n  excludeCIDRs: [10.200.0.0/16]\n  strictARP: true\n');
    const nft = run(input([], { config: c }));
    const settings = only(nft, 'ipvs-settings');
    assert.deepEqual(settings.map((f) => f.severity), ['change', 'change', 'info']);
    assert.match(settings.find((f) => /tcpTimeout/.test(f.message))?.message ?? '', /ipvs\.tcpTimeout \(900s\), ipvs\.udpTimeout \(60s\)/);
    // tcpFinTimeout 0s means "leave the kernel's value" (proxier.go: only values > 0 are set).
    assert.doesNotMatch(settings.map((f) => f.message).join('\n'), /tcpFinTimeout/);
    assert.match(settings.find((f) => /excludeCIDRs/.test(f.message))?.message ?? '', /flushes the whole IPVS table/);
    assert.match(settings.find((f) => /syncPeriod/.test(f.message))?.message ?? '', /nftables\.syncPeriod/);
    assert.equal(only(nft, 'strict-arp')[0]?.severity, 'info');
    const ipt = only(run(input([], { config: c, target: 'iptables' })), 'ipvs-settings');
    assert.equal(ipt.find((f) => /excludeCIDRs/.test(f.message))?.severity, 'info');
  });

  it('an unreadable configuration is said once, and no config rule guesses', () => {
    const report = checkMigration(input([service('np', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [http(80, 30080)] })], { config: null }));
    assert.equal(report.findings.filter((f) => /could not be read/.test(f.message)).length, 1);
    assert.equal(only(report.findings, 'nodeport-addresses')[0]?.severity, 'info');
  });
});

describe('migration rules: Service addresses bound on kube-ipvs0', () => {
  const objects = [service('ext', { clusterIP: '10.96.0.30', externalIPs: ['203.0.113.5', '192.168.1.10'], ports: [http(80)] })];
  it('external IPs that are not node addresses lose their ARP answers unless strictARP was on', () => {
    const found = only(run(input(objects)), 'service-address-arp');
    assert.equal(found.length, 1);
    assert.match(found[0]?.message ?? '', /^203\.0\.113\.5 is bound on kube-ipvs0/);
    assert.deepEqual(only(run(input(objects, { config: config('ipvs:\n  strictARP: true\n') })), 'service-address-arp'), []);
  });

  it('host ports through Service addresses: already rejected by KUBE-IPVS-FILTER from 1.30, a change before', () => {
    const nodes = [node({ kubeIpvs0: ['10.96.0.30', '203.0.113.5'] })];
    const now = only(run(input(objects, { nodes })), 'service-address-ports');
    assert.deepEqual(now.map((f) => f.severity), ['info']);
    assert.match(now[0]?.message ?? '', /2 Service addresses are local.*rejects new connections/);
    const old = only(run(input(objects, { nodes, version: { major: 1, minor: 28, patch: null } })), 'service-address-ports');
    assert.deepEqual(old.map((f) => f.severity), ['change']);
    const unknown = only(run(input(objects, { nodes, version: null })), 'service-address-ports');
    assert.deepEqual(unknown.map((f) => f.severity), ['change']);
    assert.deepEqual(only(run(input(objects)), 'service-address-ports'), [], 'nothing bound, nothing to say');
  });
});

describe('migration rules: NodePorts', () => {
  const objects = [service('np', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [http(80, 30080)] })];
  // fd00::5: an IPv6 address, but the NodePort Service is IPv4 only (each family's proxier serves its own).
  const twoAddresses = node({ addresses: ['127.0.0.1', '192.168.1.10', '10.0.0.5', 'fe80::1', '::1', 'fd00::5'] });

  it('nftables with nodePortAddresses unset: addresses beyond the InternalIPs lose their NodePorts (not loopback, not link-local)', () => {
    const found = only(run(input(objects, { nodes: [twoAddresses] })), 'nodeport-addresses');
    assert.equal(found.length, 1);
    assert.equal(found[0]?.subject, 'n1');
    assert.match(found[0]?.message ?? '', /answer on 10\.0\.0\.5 today; .*InternalIPs \(192\.168\.1\.10\)/);
    // compare-modes matches the addresses a probe lost against this list.
    assert.deepEqual(found[0]?.addresses, ['10.0.0.5']);
    assert.deepEqual(only(run(input(objects, { nodes: [twoAddresses], config: config('nodePortAddresses: [0.0.0.0/0]\n') })), 'nodeport-addresses'), []);
    assert.deepEqual(only(run(input(objects, { nodes: [twoAddresses], target: 'iptables' })), 'nodeport-addresses'), []);
  });

  it('localhost: no change to nftables; iptables newly serves 127.0.0.1 unless localhostNodePorts is false', () => {
    assert.deepEqual(only(run(input(objects)), 'localhost-nodeport').map((f) => f.severity), ['info']);
    const ipt = only(run(input(objects, { target: 'iptables' })), 'localhost-nodeport');
    assert.deepEqual(ipt.map((f) => f.severity), ['change']);
    assert.match(ipt[0]?.message ?? '', /127\.0\.0\.1.*route_localnet=1/);
    assert.deepEqual(only(run(input(objects, { target: 'iptables', config: config('iptables:\n  localhostNodePorts: false\n') })), 'localhost-nodeport'), []);
    assert.deepEqual(only(run(input(objects, { target: 'iptables', config: config('nodePortAddresses: [192.168.1.0/24]\n') })), 'localhost-nodeport'), []);
    assert.deepEqual(only(run(input([service('c', { clusterIP: '10.96.0.41', ports: [http(80)] })], { target: 'iptables' })), 'localhost-nodeport'), [], 'no NodePorts');
  });
});

describe('migration rules: the target mode itself', () => {
  // pkg/util/kernel/constants.go NFTablesKubeProxyKernelVersion = "5.13"; knftables: nft v1.0.1 or later.
  it('kernel older than 5.13 or nft older than 1.0.1 blocks nftables; iptables does not care', () => {
    const old = node({ kernelRelease: '5.10.0-30-amd64', nftVersion: 'nftables v0.9.8 (E.D.S.)' });
    const found = run(input([], { nodes: [old] }));
    assert.deepEqual([...only(found, 'target-kernel'), ...only(found, 'target-nft')].map((f) => f.severity), ['blocker', 'blocker']);
    assert.equal(checkMigration(input([], { nodes: [old] })).ok, false);
    assert.deepEqual(run(input([], { nodes: [node({ kernelRelease: '5.13.0' })] })).filter((f) => f.rule === 'target-kernel'), []);
    assert.deepEqual(only(run(input([], { nodes: [old], target: 'iptables' })), 'target-kernel'), []);
    assert.deepEqual(only(run(input([], { nodes: [node({ nftVersion: null })] })), 'target-nft').map((f) => f.severity), ['info']);
  });

  it('kube-proxy versions: no nftables before 1.29, a gate in 1.29-1.30', () => {
    assert.deepEqual(only(run(input([], { version: { major: 1, minor: 28, patch: 3 } })), 'kube-proxy-version').map((f) => f.severity), ['blocker']);
    assert.deepEqual(only(run(input([], { version: { major: 1, minor: 30, patch: 0 } })), 'kube-proxy-version').map((f) => f.severity), ['change']);
    assert.deepEqual(only(run(input([], { version: { major: 1, minor: 31, patch: 0 } })), 'kube-proxy-version'), []);
  });

  it('reads kernel releases and nft versions', () => {
    assert.deepEqual(kernelMajorMinor('6.1.0-26-amd64'), [6, 1]);
    assert.equal(kernelMajorMinor('unknown'), null);
    assert.deepEqual(nftVersionOf('nftables v1.0.6 (Lester Gooch #5)'), [1, 0, 6]);
    assert.deepEqual(nftVersionOf('nftables v1.1 (x)'), [1, 1, 0]);
  });
});

describe('migration rules: IPVS state left behind', () => {
  // server_linux.go platformCleanup: nftables runs ipvs.CleanupLeftovers (flush everything); iptables does not.
  it('nftables deletes virtual servers no Service owns; iptables leaves everything', () => {
    const objects = [service('web', { clusterIP: '10.96.0.10', ports: [http(80)] })];
    const nodes = [node({ table: table([vs('10.96.0.10', 80, 'rr'), vs('10.200.0.1', 53, 'rr')]) })];
    const nft = only(run(input(objects, { nodes })), 'ipvs-state-cleanup');
    assert.deepEqual(nft.map((f) => [f.severity, f.scope]), [['change', 'node'], ['info', 'kube-proxy']]);
    assert.match(nft[0]?.message ?? '', /^1 virtual server no Service owns \(e\.g\. TCP 10\.200\.0\.1:53\)/);
    const ipt = only(run(input(objects, { nodes, target: 'iptables' })), 'ipvs-state-cleanup');
    assert.deepEqual(ipt.map((f) => f.severity), ['change']);
    assert.match(ipt[0]?.message ?? '', /kube-proxy --cleanup/);
  });

  it('the report is ok only without blockers and changes, blockers first', () => {
    const report = checkMigration(input([], { nodes: [node({ kernelRelease: '4.19.0' })] }));
    assert.equal(report.ok, false);
    assert.equal(report.findings[0]?.severity, 'blocker');
    const quiet = checkMigration(input([]));
    assert.equal(quiet.ok, true, JSON.stringify(quiet.findings));
  });
});

describe("kube-proxy's configuration as read from its ConfigMap", () => {
  it('reads the IPVS fields, nodePortAddresses and localhostNodePorts', () => {
    const c = config('ipvs:\n  scheduler: wrr\n  strictARP: true\n  excludeCIDRs: [10.0.0.0/8]\nnodePortAddresses: [primary]\niptables:\n  localhostNodePorts: false\n');
    assert.equal(c.mode, 'ipvs');
    assert.equal(c.ipvs.scheduler, 'wrr');
    assert.equal(c.ipvs.strictARP, true);
    assert.deepEqual(c.ipvs.excludeCIDRs, ['10.0.0.0/8']);
    assert.deepEqual(c.nodePortAddresses, ['primary']);
    assert.equal(c.localhostNodePorts, false);
  });
  it('rejects what is not a KubeProxyConfiguration', () => {
    assert.throws(() => readKubeProxyConfigText('kind: KubeletConfiguration\n'), KubeProxyConfigError);
    assert.throws(() => readKubeProxyConfigText('ipvs:\n  strictARP: "yes"\n'), /ipvs\.strictARP must be true or false/);
    assert.throws(() => readKubeProxyConfigText('[1, 2'), /not YAML/);
  });
});
