// Preflight for the local provider: the pure verdicts, and the real probes
// (unix socket connect, port binding, CNI folders) against a test world.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSettings } from '../src/config/resolve.js';
import type { Settings } from '../src/config/settings.js';
import type { Check } from '../src/doctor/check.js';
import type { LocalPreflightFacts } from '../src/providers/local/preflight.js';
import { cniSubnets, evaluateLocalPreflight, probePortFree, probeUnixSocket, renderBridgeConflist } from '../src/providers/local/preflight.js';
import { localProvider } from '../src/providers/local/local-provider.js';
import type { LocalWorld } from './stand-ins/local/harness.js';
import { ETCD, contextFor, makeWorld } from './stand-ins/local/harness.js';

const settings = (env: Record<string, string> = {}): Settings => resolveSettings({ flags: {}, env: { HOME: '/h', CLUSTER_PROVIDER: 'local', ...env }, dotenv: null }).values;

const good: LocalPreflightFacts = {
  binaries: { found: [{ name: 'etcd', path: '/usr/bin/etcd', via: 'PATH', versionText: 'etcd Version: 3.6.10' }], verdict: { version: { major: 1, minor: 34, patch: 11 }, errors: [], warnings: [], notes: [] } },
  openssl: { name: 'openssl', path: '/usr/bin/openssl', foundVia: 'PATH', versionText: 'OpenSSL 3.0.22', failure: null },
  kubectl: { path: '/usr/bin/kubectl', foundVia: 'PATH' },
  runtime: { endpoint: 'unix:///run/containerd/containerd.sock', result: 'ok' },
  cniBinDir: { dir: '/opt/cni/bin', missing: [] },
  cniConfigDir: { dir: '/etc/cni/net.d', files: [], subnets: [] },
  ports: [{ setting: 'API_SECURE_PORT', host: '0.0.0.0', port: 6443, component: 'kube-apiserver', problem: null }],
  privileges: { uid: 0, sudo: 'passwordless' },
  etcdDir: { path: '/s/etcd', entries: null },
  existingVirtualServers: null,
};
const byId = (checks: readonly Check[]) => Object.fromEntries(checks.map((c) => [c.id.replace('provider.local.', ''), c]));

describe('local preflight verdicts (pure)', () => {
  it('all good: every check passes, and the CNI config will be written', () => {
    const checks = byId(evaluateLocalPreflight(settings(), good));
    assert.deepEqual(Object.values(checks).filter((c) => c.status !== 'pass'), []);
    assert.match(checks['cni-config']?.detail ?? '', /up writes 10-kube-local-up\.conflist \(bridge cni0, host-local 10\.244\.0\.0\/16\)/);
  });
  const cases: [string, Partial<LocalPreflightFacts>, Record<string, string>, string, 'fail' | 'warn', RegExp][] = [
    ['missing binaries', { binaries: { error: 'the local provider cannot find a binary', details: 'kubelet: not in /k (KUBE_BIN_DIR)' } }, {}, 'binaries', 'fail', /kubelet: not in \/k \(KUBE_BIN_DIR\)/],
    ['no containerd socket', { runtime: { endpoint: 'unix:///run/containerd/containerd.sock', result: { code: 'ENOENT', message: 'connect ENOENT /run/containerd/containerd.sock' } } }, {}, 'runtime', 'fail', /cannot connect to \/run\/containerd\/containerd\.sock/],
    ['a socket this user may not open', { privileges: { uid: 1000, sudo: 'passwordless' }, runtime: { endpoint: 'unix:///run/containerd/containerd.sock', result: { code: 'EACCES', message: 'permission denied' } } }, {}, 'runtime', 'warn', /the kubelet runs as root and can/],
    ['CNI plugins missing', { cniBinDir: { dir: '/opt/cni/bin', missing: ['bridge', 'portmap'] } }, {}, 'cni-plugins', 'fail', /missing: bridge, portmap/],
    ['a CNI network outside CLUSTER_CIDR', { cniConfigDir: { dir: '/etc/cni/net.d', files: ['10-containerd-net.conflist'], subnets: ['10.88.0.0/16'] } }, {}, 'cni-config', 'warn', /addresses in 10\.88\.0\.0\/16, outside CLUSTER_CIDR=10\.244\.0\.0\/16: kube-proxy \(clusterCIDR\) will treat pod traffic as coming from outside/],
    ['a port in use', { ports: [{ setting: 'API_SECURE_PORT', host: '0.0.0.0', port: 6443, component: 'kube-apiserver', problem: '0.0.0.0:6443 is already in use' }] }, {}, 'ports', 'fail', /API_SECURE_PORT=6443 \(kube-apiserver\): 0\.0\.0\.0:6443 is already in use/],
    ['sudo wants a password', { privileges: { uid: 1000, sudo: 'needs-password' } }, {}, 'privileges', 'fail', /sudo asks for a password/],
    ['old etcd data without PRESERVE_ETCD', { etcdDir: { path: '/s/etcd', entries: 1 } }, {}, 'etcd-dir', 'fail', /already holds data, and PRESERVE_ETCD=false/],
    ['IPVS virtual servers that --cleanup will flush', { existingVirtualServers: ['TCP/192.0.2.50:80'] }, {}, 'ipvs-table', 'warn', /flushes the WHOLE IPVS table/],
    ['no kubectl', { kubectl: { path: null, foundVia: null } }, {}, 'kubectl', 'fail', /kubectl not found/],
  ];
  for (const [title, facts, env, id, status, detail] of cases) {
    it(title, () => {
      const check = byId(evaluateLocalPreflight(settings(env), { ...good, ...facts }))[id];
      assert.equal(check?.status, status);
      assert.match(check?.detail ?? '', detail);
      if (status === 'fail') assert.match(check?.fix ?? '', /\S/, 'a failing check says what to do');
    });
  }
  it('kept etcd data is fine with PRESERVE_ETCD', () => {
    assert.equal(byId(evaluateLocalPreflight(settings({ PRESERVE_ETCD: 'true' }), { ...good, etcdDir: { path: '/s/etcd', entries: 3 } }))['etcd-dir']?.status, 'pass');
  });
  it('reads host-local subnets from CNI configs, and writes one over CLUSTER_CIDR', () => {
    assert.deepEqual(cniSubnets([renderBridgeConflist('10.244.0.0/16'), '{"plugins":[{"ipam":{"subnet":"10.1.0.0/16"}}]}', 'not json']), ['10.244.0.0/16', '10.1.0.0/16']);
  });
});

describe('local preflight probes (real sockets and files)', () => {
  const worlds: LocalWorld[] = [];
  after(async () => {
    for (const w of worlds) await w.close();
  });
  it('connects to a unix socket, and says why not when it cannot', async () => {
    const w = await makeWorld();
    worlds.push(w);
    assert.equal(await probeUnixSocket((w.env.CONTAINER_RUNTIME_ENDPOINT ?? '').replace('unix://', '')), 'ok');
    const missing = await probeUnixSocket(join(w.root, 'nope.sock'));
    assert.ok(missing !== 'ok' && missing.code === 'ENOENT');
  });
  it('finds a port in use by binding it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const port = (server.address() as { port: number }).port;
    assert.equal(await probePortFree('127.0.0.1', port), `127.0.0.1:${port} is already in use`);
    await new Promise((r) => server.close(r));
    assert.equal(await probePortFree('127.0.0.1', port), null);
  });
  it("the provider's preflight against a test world: a taken port, missing CNI plugins and a foreign CNI network", { skip: ETCD === null ? 'etcd is not installed' : false }, async () => {
    const w = await makeWorld();
    worlds.push(w);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: w.ports.KUBE_SCHEDULER_PORT, host: '127.0.0.1' }, resolve));
    rmSync(join(w.env.CNI_BIN_DIR ?? '', 'portmap'));
    mkdirSync(w.env.CNI_CONFIG_DIR ?? '', { recursive: true });
    writeFileSync(join(w.env.CNI_CONFIG_DIR ?? '', '10-containerd-net.conflist'), JSON.stringify({ plugins: [{ type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]] } }] }));
    try {
      const checks = byId((await localProvider.preflight(contextFor(w))).checks);
      assert.equal(checks.ports?.status, 'fail');
      assert.match(checks.ports?.detail ?? '', new RegExp(`KUBE_SCHEDULER_PORT=${w.ports.KUBE_SCHEDULER_PORT} \\(kube-scheduler\\)`));
      assert.equal(checks['cni-plugins']?.status, 'fail');
      assert.match(checks['cni-plugins']?.detail ?? '', /missing: portmap/);
      assert.equal(checks['cni-config']?.status, 'warn');
      assert.equal(checks.runtime?.status, 'pass');
      assert.equal(checks.binaries?.status, 'pass');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
