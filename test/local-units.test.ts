// Smaller pieces of the local provider: health verdicts, the HTTP(S) client with
// CA verification, the state-file details, finding a cluster's processes by
// their folders, and the closing message.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLocalUpError } from '../src/errors.js';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import { findExecutable } from '../src/exec/which.js';
import type { LocalDetails } from '../src/providers/local/details.js';
import { readLocalDetails } from '../src/providers/local/details.js';
import { NodeHttpClient } from '../src/providers/local/http.js';
import { renderClosingMessage } from '../src/providers/local/ready.js';
import { describeTeardown, discoverComponents } from '../src/providers/local/stop.js';
import { ensurePki, planPki } from '../src/providers/local/pki.js';
import { missingVirtualServers, requiredVirtualServers } from '../src/providers/local/required-ipvs.js';
import { judgeHealth } from '../src/providers/local/supervisor.js';
import { podsOnNode } from '../src/providers/local/teardown.js';
import { readProcIpvs } from '../src/ipvs/read-proc.js';
import { ROOT } from './helpers/cli.js';
import { tempDir } from './helpers/cli.js';

describe('health verdicts', () => {
  const ok = (status: number, body: string) => ({ ok: true as const, status, body });
  it('etcd wants {"health":"true"}, the components "ok", kube-proxy any 200', () => {
    assert.equal(judgeHealth({ url: 'u', expect: 'etcd-health' }, ok(200, '{"health":"true","reason":""}')).ready, true);
    assert.deepEqual(judgeHealth({ url: 'u', expect: 'etcd-health' }, ok(200, '{"health":"false"}')), { ready: false, why: 'health is "false"' });
    assert.equal(judgeHealth({ url: 'u', expect: 'ok' }, ok(200, 'ok')).ready, true);
    assert.deepEqual(judgeHealth({ url: 'u', expect: 'ok' }, ok(500, '[-]etcd failed: reason withheld\nhealthz check failed')), { ready: false, why: 'HTTP 500: [-]etcd failed: reason withheld\nhealthz check failed' });
    assert.equal(judgeHealth({ url: 'u', expect: 'status-200' }, ok(200, '{"lastUpdated":"x"}')).ready, true);
    assert.deepEqual(judgeHealth({ url: 'u', expect: 'status-200' }, { ok: false, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:10256' }), { ready: false, why: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:10256' });
  });
});

describe('NodeHttpClient', () => {
  it('returns status and body over http, and the reason when nothing listens', async () => {
    const server = createHttpServer((_req, res) => res.end('ipvs'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = new NodeHttpClient();
    assert.deepEqual(await client.get(`http://127.0.0.1:${port}/proxyMode`, { timeoutMs: 2000 }), { ok: true, status: 200, body: 'ipvs' });
    await new Promise((r) => server.close(r));
    const refused = await client.get(`http://127.0.0.1:${port}/proxyMode`, { timeoutMs: 2000 });
    assert.ok(!refused.ok && refused.error.startsWith('ECONNREFUSED'));
  });

  it('verifies an https server against the cluster CA, and refuses one signed by another CA', { skip: findExecutable('openssl', process.env) === null ? 'openssl is not installed' : false }, async () => {
    const deps = { runner: new ExecaRunner(), openssl: 'openssl' };
    const input = (certDir: string) => ({ certDir, clusterName: 't', nodeName: 'n', apiHost: 'localhost', apiHostIp: '127.0.0.1', advertiseAddress: '', firstServiceIp: '10.96.0.1', dnsDomain: 'cluster.local' });
    const [mine, other] = [tempDir(), tempDir()];
    await ensurePki(planPki(input(mine)), false, deps);
    await ensurePki(planPki(input(other)), false, deps);
    const server = createHttpsServer({ cert: readFileSync(join(mine, 'serving-kube-scheduler.crt')), key: readFileSync(join(mine, 'serving-kube-scheduler.key')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
    const client = new NodeHttpClient();
    try {
      assert.deepEqual(await client.get(url, { timeoutMs: 3000, caFile: join(mine, 'ca.crt') }), { ok: true, status: 200, body: 'ok' });
      const foreign = await client.get(url, { timeoutMs: 3000, caFile: join(other, 'ca.crt') });
      assert.ok(!foreign.ok);
      assert.match(foreign.error, /certificate|self.signed|verify/i);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

const layout = { clusterDir: '/s/c', configDir: '/s/c/config', certDir: '/s/c/pki', etcdDir: '/s/c/etcd', logDir: '/s/c/logs', kubeconfigOut: '/s/c/kubeconfig', adminKubeconfig: '/s/c/pki/admin.kubeconfig' };
const sample: LocalDetails = {
  kind: 'local',
  version: '1.34.11',
  nodeName: '127.0.0.1',
  serviceCidr: '10.96.0.0/16',
  layout,
  components: [
    { name: 'etcd', pid: 10, pgid: 10, startTicks: 100, argv: ['/usr/bin/etcd', '--data-dir=/s/c/etcd'], logFile: '/s/c/logs/etcd.log' },
    { name: 'kube-proxy', pid: 20, pgid: 20, startTicks: 200, argv: ['/k/kube-proxy', '--config=/s/c/config/kube-proxy.yaml'], logFile: '/s/c/logs/kube-proxy.log' },
  ],
  kubeProxy: { configFile: '/s/c/config/kube-proxy.yaml', mode: 'ipvs', cleanupArgv: ['/k/kube-proxy', '--config=/s/c/config/kube-proxy.yaml', '--cleanup'], healthzUrl: 'http://127.0.0.1:10256/healthz', proxyModeUrl: 'http://127.0.0.1:10249/proxyMode' },
  clusterDns: true,
  preserveEtcd: false,
  sudo: false,
  configFiles: ['/s/c/config/kube-proxy.yaml', '/s/c/config/kubelet.yaml'],
  requiredVirtualServers: [{ protocol: 'TCP', address: '10.96.0.1', port: 443, realPort: 6443, service: 'default/kubernetes:https' }],
};

describe('state-file details', () => {
  it('round-trips through JSON and ignores keys the orchestrator adds', () => {
    const back = readLocalDetails({ ...(JSON.parse(JSON.stringify(sample)) as Record<string, unknown>), upPhase: 'ready' }, 'state.json');
    assert.deepEqual(back, sample);
  });
  it('a state file that is not a local cluster\'s, or is incomplete, is a usage error naming the file', () => {
    for (const [bad, why] of [
      [{ ...sample, kind: 'kind' }, /not written by the local provider/],
      [{ ...sample, components: [{ name: 'etcd', pid: 'x' }] }, /components\[0\] lacks/],
      [{ ...sample, layout: { certDir: '/x' } }, /layout is incomplete/],
    ] as const) {
      assert.throws(() => readLocalDetails(bad as unknown as Record<string, unknown>, '/s/state.json'), (error: unknown) => {
        assert.ok(isLocalUpError(error));
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /^\/s\/state\.json does not describe a local cluster: /);
        assert.match(error.message, why);
        return true;
      });
    }
  });
});

describe('finding a cluster without its state file', () => {
  it('matches only processes that name this cluster\'s folders, and never a running --cleanup', () => {
    const processes = [
      { pid: 1, cmdline: ['/usr/bin/etcd', '--name=default', '--data-dir=/s/c/etcd'] },
      { pid: 2, cmdline: ['node', '/k/kube-apiserver', '--tls-cert-file=/s/c/pki/serving-kube-apiserver.crt'] },
      { pid: 3, cmdline: ['/k/kube-proxy', '--config=/s/c/config/kube-proxy.yaml'] },
      { pid: 4, cmdline: ['/k/kube-proxy', '--config=/s/c/config/kube-proxy.yaml', '--cleanup'] },
      { pid: 5, cmdline: ['/k/kube-proxy', '--config=/s/other/config/kube-proxy.yaml'] },
      { pid: 6, cmdline: ['/usr/bin/etcd', '--data-dir=/s/c/etcd-old'] },
      { pid: 7, cmdline: ['vim', '/s/c/config/kube-proxy.yaml'] },
    ];
    assert.deepEqual(discoverComponents(processes, layout).map((p) => `${p.pid} ${p.name}`), ['1 etcd', '2 kube-apiserver', '3 kube-proxy']);
  });
});

describe('messages', () => {
  it('the closing message lists the kubeconfig, every config file and every log, like print_success', () => {
    const text = renderClosingMessage(sample, 'dev').join('\n');
    assert.match(text, /^Local Kubernetes cluster "dev" is running: Kubernetes 1\.34\.11, kube-proxy in ipvs mode, node 127\.0\.0\.1\.$/m);
    assert.match(text, /^Configurations:\n {2}\/s\/c\/config\/kube-proxy\.yaml\n {2}\/s\/c\/config\/kubelet\.yaml\n/m);
    assert.match(text, /^Logs:\n {2}\/s\/c\/logs\/etcd\.log\n {2}\/s\/c\/logs\/kube-proxy\.log$/m);
    assert.match(text, /^ {2}export KUBECONFIG=\/s\/c\/kubeconfig$/m);
    assert.match(text, /--cleanup; etcd's data is removed\.$/m);
  });
  it('the stop report names each step and what is left', () => {
    const lines = describeTeardown({
      stops: [{ name: 'kube-proxy', pid: 20, decision: { action: 'signal', why: '' }, result: 'killed' }, { name: 'etcd', pid: 10, decision: { action: 'gone', why: 'etcd (pid 10) is not running' }, result: 'not-signalled' }],
      podRemoval: 'no pods left on node 127.0.0.1',
      cleanup: { command: '/k/kube-proxy --cleanup', ok: false, detail: 'exited with code 1\nE cleanup: ipset destroy failed' },
      removal: [{ what: 'ipset KUBE-CLUSTER-IP', command: 'ipset destroy KUBE-CLUSTER-IP', ok: false, detail: 'exited with code 1: ipset v7.17: Set cannot be destroyed: it is in use by a kernel component' }],
      leftovers: { clean: false, leftovers: [{ kind: 'ipset', name: 'KUBE-CLUSTER-IP', detail: 'ipset', owner: 'kube-proxy' }], otherVirtualServers: [], unreadable: [] },
      etcdData: 'removed',
      ok: false,
    });
    assert.deepEqual(lines, [
      'no pods left on node 127.0.0.1',
      'killed kube-proxy (pid 20) after SIGTERM was not enough',
      'etcd (pid 10) is not running',
      '/k/kube-proxy --cleanup FAILED: exited with code 1\nE cleanup: ipset destroy failed',
      'kube-proxy --cleanup left some of its state; local-up removed it itself (what failed is named):',
      '  could not remove ipset KUBE-CLUSTER-IP: ipset destroy KUBE-CLUSTER-IP: exited with code 1: ipset v7.17: Set cannot be destroyed: it is in use by a kernel component',
      '1 piece(s) of kube-proxy state are still on this host:',
      '  ipset KUBE-CLUSTER-IP: ipset',
      "etcd's data folder was removed",
    ]);
  });
});

describe('the pods down removes before the kubelet stops', () => {
  it('every pod bound to the node, with its namespace; unbound (Pending) pods and other nodes\' are not', () => {
    const pod = (namespace: string, name: string, nodeName?: string) => ({ metadata: { namespace, name }, spec: nodeName === undefined ? {} : { nodeName }, status: { phase: nodeName === undefined ? 'Pending' : 'Running' } });
    const list = { kind: 'List', items: [pod('kube-system', 'coredns-7d9f-abcde', 'lab'), pod('local-up-smoke-1a2b3c', 'backends-1', 'lab'), pod('default', 'web-new'), pod('default', 'elsewhere', 'other')] };
    assert.deepEqual(podsOnNode(list, 'lab'), [{ namespace: 'kube-system', name: 'coredns-7d9f-abcde' }, { namespace: 'local-up-smoke-1a2b3c', name: 'backends-1' }]);
    assert.deepEqual(podsOnNode({ kind: 'List', items: [] }, 'lab'), []);
  });
});

describe('the virtual servers a local IPVS cluster must have (recorded lab tables)', () => {
  const table = (name: string) => readProcIpvs(readFileSync(join(ROOT, 'test', 'fixtures', 'local', 'lab', name), 'utf8'));
  const required = (apiSecurePort: number, dns = true) => requiredVirtualServers({ firstServiceIp: '10.96.0.1', apiSecurePort, dnsServerIp: dns ? '10.96.0.10' : null });
  it('kubernetes 443/TCP to the API server port, kube-dns 53/UDP, 53/TCP, 9153/TCP', () => {
    assert.deepEqual(required(6443).map((r) => `${r.protocol}/${r.address}:${r.port}->${r.realPort ?? '*'} ${r.service}`), [
      'TCP/10.96.0.1:443->6443 default/kubernetes:https',
      'UDP/10.96.0.10:53->* kube-system/kube-dns:dns',
      'TCP/10.96.0.10:53->* kube-system/kube-dns:dns-tcp',
      'TCP/10.96.0.10:9153->* kube-system/kube-dns:metrics',
    ]);
    assert.equal(required(6443, false).length, 1);
  });
  it('passes on the programmed table, names each problem otherwise', () => {
    assert.deepEqual(missingVirtualServers(table('proc-net-ip_vs.txt'), required(6443)), []);
    assert.deepEqual(missingVirtualServers(table('proc-net-ip_vs.txt'), required(7443)), ['TCP/10.96.0.1:443 (default/kubernetes:https) sends to 192.168.50.10:6443, not to port 7443 (API_SECURE_PORT)']);
    assert.deepEqual(missingVirtualServers(table('proc-net-ip_vs-after-cleanup.txt'), required(6443)), [
      'TCP/10.96.0.1:443 (default/kubernetes:https) is not in the IPVS table',
      'UDP/10.96.0.10:53 (kube-system/kube-dns:dns) is not in the IPVS table',
      'TCP/10.96.0.10:53 (kube-system/kube-dns:dns-tcp) is not in the IPVS table',
      'TCP/10.96.0.10:9153 (kube-system/kube-dns:metrics) is not in the IPVS table',
    ]);
  });
});
