// `local-up ipvs expect`, in process: the JSON contract, the listing, settings
// (IPVS_SCHEDULER, NODEPORT_ADDRESSES, IP_FAMILY) and usage errors.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, cleanEnv, runInProcess, tempDir } from './helpers/cli.js';

const CLUSTER = join(ROOT, 'test', 'fixtures', 'assert', 'cluster.json');
const BASE = ['ipvs', 'expect', '--cluster', CLUSTER, '--node-name', 'kind-worker', '--node-ip', '172.18.0.3'];

interface JsonVs {
  protocol: string;
  address: string;
  port: number;
  scheduler: string;
  persistent: null | { timeout: number };
  realServers: { address: string; port: number; weight: number }[];
  service: { namespace: string; name: string; portName: string };
  kind: string;
}

interface JsonOut {
  node: string;
  families: string[];
  scheduler: string;
  virtualServers: JsonVs[];
  kubeIpvs0Addresses: string[];
  notes: string[];
}

async function json(argv: string[], env?: Record<string, string | undefined>): Promise<JsonOut> {
  const result = await runInProcess([...argv, '--json'], env === undefined ? {} : { env: cleanEnv(env) });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as JsonOut;
}

const summary = (out: JsonOut): string[] =>
  out.virtualServers.map(
    (vs) =>
      `${vs.protocol} ${vs.address}:${vs.port} ${vs.scheduler}${vs.persistent === null ? '' : ` p${vs.persistent.timeout}`} ` +
      `[${vs.realServers.map((rs) => `${rs.address}:${rs.port}w${rs.weight}`).join(' ')}] ${vs.kind}`,
  );

test('--json: the documented shape, one entry per virtual server with its Service and kind', async () => {
  const result = await runInProcess([...BASE, '--json']);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
  const out = JSON.parse(result.stdout) as JsonOut;
  assert.deepEqual(Object.keys(out), ['node', 'families', 'scheduler', 'virtualServers', 'kubeIpvs0Addresses', 'notes']);
  for (const vs of out.virtualServers) {
    assert.deepEqual(Object.keys(vs), ['protocol', 'address', 'port', 'scheduler', 'persistent', 'realServers', 'service', 'kind']);
  }
  assert.deepEqual(summary(out), [
    'TCP 10.96.0.1:443 rr [172.18.0.2:6443w1] ClusterIP',
    'TCP 10.96.9.9:80 rr [10.244.2.6:8080w1] ClusterIP',
    'TCP 172.18.255.200:80 rr [10.244.2.6:8080w1] LoadBalancer',
    'TCP 172.18.0.3:31080 rr [10.244.2.6:8080w1] NodePort',
    'TCP 10.96.200.7:80 rr p10800 [10.244.1.4:8080w1] ClusterIP',
    'TCP 10.96.45.12:80 rr [10.244.1.2:8080w1 10.244.2.2:8080w1] ClusterIP',
    'TCP 172.18.0.3:30080 rr [10.244.1.2:8080w1 10.244.2.2:8080w1] NodePort',
    'UDP 10.96.0.10:53 rr [10.244.0.2:53w1 10.244.0.3:53w1] ClusterIP',
    'TCP 10.96.0.10:53 rr [10.244.0.2:53w1 10.244.0.3:53w1] ClusterIP',
    'TCP 10.96.0.10:9153 rr [10.244.0.2:9153w1 10.244.0.3:9153w1] ClusterIP',
  ]);
  assert.deepEqual(out.virtualServers[1]?.service, { namespace: 'default', name: 'local-lb', portName: 'http' });
  assert.deepEqual(out.kubeIpvs0Addresses, ['10.96.0.1', '10.96.0.10', '10.96.9.9', '10.96.45.12', '10.96.200.7', '172.18.255.200']);
  assert.deepEqual([out.node, out.families, out.scheduler, out.notes], ['kind-worker', ['IPv4'], 'rr', []]);
});

test('the readable listing looks like ipvsadm -Ln, each virtual server tagged with its Service', async () => {
  const result = await runInProcess([...BASE.slice(0, 4), '--node-name', 'kind-worker2', '--node-ip', '172.18.0.4']);
  assert.equal(result.code, 0);
  const lines = result.stdout.split('\n');
  assert.equal(lines[0], 'Expected IPVS table on node kind-worker2 (IPv4, scheduler rr): 10 virtual servers');
  assert.deepEqual(lines.slice(1, 9), [
    'TCP  10.96.0.1:443 rr                    # default/kubernetes https (ClusterIP)',
    '  -> 172.18.0.2:6443              Masq    1',
    'TCP  10.96.9.9:80 rr                     # default/local-lb http (ClusterIP)',
    '  -> 10.244.2.6:8080              Masq    1',
    'TCP  172.18.255.200:80 rr                # default/local-lb http (LoadBalancer)',
    '  -> 10.244.2.6:8080              Masq    1',
    'TCP  172.18.0.4:31080 rr                 # default/local-lb http (NodePort)',
    '  -> 10.244.2.6:8080              Masq    1',
  ]);
  assert.match(result.stdout, /^TCP {2}10\.96\.200\.7:80 rr persistent 10800 +# default\/sticky http \(ClusterIP\)$/m);
  assert.match(result.stdout, /\nkube-ipvs0: 10\.96\.0\.1, 10\.96\.0\.10, 10\.96\.9\.9, 10\.96\.45\.12, 10\.96\.200\.7, 172\.18\.255\.200\n$/);
});

test('the scheduler comes from IPVS_SCHEDULER unless --scheduler is given', async () => {
  assert.ok((await json(BASE, { IPVS_SCHEDULER: 'sh' })).virtualServers.every((vs) => vs.scheduler === 'sh'));
  const flag = await json([...BASE, '--scheduler', 'lc'], { IPVS_SCHEDULER: 'sh' });
  assert.equal(flag.scheduler, 'lc');
  assert.ok(flag.virtualServers.every((vs) => vs.scheduler === 'lc'));
  const bad = await runInProcess(BASE, { env: cleanEnv({ IPVS_SCHEDULER: 'fastest' }) });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /IPVS_SCHEDULER="fastest" \(from the environment\) must be one of: rr, wrr/);
});

test('NODEPORT_ADDRESSES picks the node addresses that carry NodePorts', async () => {
  const argv = [...BASE, '--node-ip', '10.0.0.7'];
  const all = await json(argv);
  assert.deepEqual(all.virtualServers.filter((vs) => vs.kind === 'NodePort').map((vs) => `${vs.address}:${vs.port}`), [
    '10.0.0.7:31080',
    '172.18.0.3:31080',
    '10.0.0.7:30080',
    '172.18.0.3:30080',
  ]);
  const some = await json(argv, { NODEPORT_ADDRESSES: '10.0.0.0/24' });
  assert.deepEqual(some.virtualServers.filter((vs) => vs.kind === 'NodePort').map((vs) => `${vs.address}:${vs.port}`), ['10.0.0.7:31080', '10.0.0.7:30080']);
  // (derived) kube-proxy matches the CIDRs against kube-ipvs0 too: a CIDR covering the Service range adds NodePorts there.
  const wide = await json(argv, { NODEPORT_ADDRESSES: '10.0.0.0/8' });
  assert.deepEqual(
    wide.virtualServers.filter((vs) => vs.kind === 'NodePort' && vs.port === 30080).map((vs) => vs.address),
    ['10.0.0.7', '10.96.0.1', '10.96.0.10', '10.96.9.9', '10.96.45.12', '10.96.200.7'],
  );
  // primary: the first --node-ip of the family stands for the Node's InternalIP (cmd/kube-proxy/app/server.go v1.34.11: <ip>/32).
  const primary = await json(argv, { NODEPORT_ADDRESSES: 'primary', KUBE_VERSION: '1.34' });
  assert.deepEqual(primary.virtualServers.filter((vs) => vs.kind === 'NodePort').map((vs) => `${vs.address}:${vs.port}`), ['172.18.0.3:31080', '172.18.0.3:30080']);
});

test('--family IPv6 models the IPv6 kube-proxy; IP_FAMILY=dual models both', async () => {
  const v6 = await json([...BASE, '--family', 'IPv6']);
  assert.deepEqual([v6.families, v6.virtualServers.length, v6.kubeIpvs0Addresses], [['IPv6'], 0, []]);
  const dual = await json(BASE, { IP_FAMILY: 'dual' });
  assert.deepEqual([dual.families, dual.virtualServers.length], [['IPv4', 'IPv6'], 10]);
});

test('other kinds in --cluster are skipped with a warning on stderr; stdout stays pure JSON', async () => {
  const file = join(tempDir(), 'mixed.json');
  writeFileSync(file, JSON.stringify({ kind: 'List', items: [{ kind: 'Pod', metadata: { name: 'p' } }] }));
  const result = await runInProcess(['ipvs', 'expect', '--cluster', file, '--node-name', 'n', '--node-ip', '10.0.0.1', '--json']);
  assert.equal(result.code, 0);
  assert.deepEqual((JSON.parse(result.stdout) as JsonOut).virtualServers, []);
  assert.equal(
    result.stderr,
    'warning: --cluster: ignored 1 item of kind Pod (only Service and EndpointSlice are used)\nwarning: --cluster: no Services found; nothing is expected\n',
  );
});

test('usage errors exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['ipvs', 'expect', '--node-name', 'n', '--node-ip', '10.0.0.1'], /^error: --cluster FILE is required$/m],
    [['ipvs', 'expect', '--cluster', join(tempDir(), 'none.json'), '--node-name', 'n', '--node-ip', '10.0.0.1'], /^error: --cluster .*none\.json: no such file$/m],
    [['ipvs', 'expect', '--cluster', CLUSTER, '--node-name', 'n'], /^error: --node-ip IP is required$/m],
    [['ipvs', 'expect', '--cluster', CLUSTER, '--node-name', 'n', '--node-ip', 'fe80::1%eth0'], /^error: --node-ip "fe80::1%eth0" is not an IP address$/m],
    [[...BASE, '--nodeport-addresses', '10.0.0.0'], /^error: invalid setting: NODEPORT_ADDRESSES="10\.0\.0\.0" \(from --nodeport-addresses\)/m],
  ];
  for (const [argv, message] of cases) {
    const result = await runInProcess(argv);
    assert.equal(result.code, 2, argv.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
  }
});

test('--node-zone and --k8s-version: zone hints filter from 1.31 on, before only with the hints annotation', async () => {
  const file = join(tempDir(), 'zoned.json');
  const slice = (ip: string, zone: string) => ({ addresses: [ip], conditions: { ready: true }, hints: { forZones: [{ name: zone }] } });
  writeFileSync(
    file,
    JSON.stringify({
      kind: 'List',
      items: [
        { kind: 'Service', metadata: { namespace: 'ns', name: 'z' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.90', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
        {
          kind: 'EndpointSlice',
          metadata: { namespace: 'ns', name: 'z-1', labels: { 'kubernetes.io/service-name': 'z' } },
          addressType: 'IPv4',
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          endpoints: [slice('10.244.1.9', 'zone-a'), slice('10.244.2.9', 'zone-b')],
        },
      ],
    }),
  );
  const args = ['ipvs', 'expect', '--cluster', file, '--node-name', 'n1', '--node-ip', '192.0.2.1', '--node-zone', 'zone-a'];
  const servers = (out: JsonOut) => out.virtualServers.flatMap((vs) => vs.realServers.map((rs) => rs.address));
  assert.deepEqual(servers(await json([...args, '--k8s-version', '1.34.11'])), ['10.244.1.9']);
  assert.deepEqual(servers(await json([...args, '--k8s-version', '1.29.15'])), ['10.244.1.9', '10.244.2.9']);
  // Without the node's zone, no hint can match.
  assert.deepEqual(servers(await json([...args.slice(0, -2), '--k8s-version', '1.34.11'])), ['10.244.1.9', '10.244.2.9']);
});
