// The real etcd (Debian's etcd-server) started through the local provider's
// supervisor with the planned command line, on free ports, in a temp data dir:
// /health readiness, stop, data dir removed (kept with PRESERVE_ETCD).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { resolveSettings } from '../src/config/resolve.js';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import { LocalHost } from '../src/exec/host.js';
import type { LocalDetails } from '../src/providers/local/details.js';
import { NodeHttpClient } from '../src/providers/local/http.js';
import type { ComponentPlan, LocalPlan } from '../src/providers/local/plan.js';
import { componentEnv, planLocalCluster } from '../src/providers/local/plan.js';
import { LocalProcessControl } from '../src/providers/local/process.js';
import { Supervisor } from '../src/providers/local/supervisor.js';
import { teardownLocal } from '../src/providers/local/teardown.js';
import { tempDir } from './helpers/cli.js';
import { ETCD, alive, freePorts } from './stand-ins/local/harness.js';

const skip = ETCD === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : false;

async function etcdPlan(extra: Record<string, string> = {}): Promise<{ plan: LocalPlan; etcd: ComponentPlan; env: Record<string, string | undefined> }> {
  const root = tempDir('local-up-etcd-');
  const [client, peer] = await freePorts(2);
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: root, STATE_DIR: join(root, 'state'), ETCD_PORT: String(client), ETCD_PEER_PORT: String(peer), ETCD_VERSION: '3.4', ...extra };
  const settings = resolveSettings({ flags: {}, env, dotenv: null }).values;
  const binaries = { etcd: ETCD ?? 'etcd', 'kube-apiserver': 'x', 'kube-controller-manager': 'x', 'kube-scheduler': 'x', kubelet: 'x', 'kube-proxy': 'x' };
  const plan = planLocalCluster({ settings, version: parseKubeVersion('1.34.11') as KubeVersion, binaries, clusterDir: join(root, 'state', 'local-up'), resolvConf: '/etc/resolv.conf' });
  const etcd = plan.components.find((c) => c.name === 'etcd');
  assert.ok(etcd);
  return { plan, etcd, env };
}

const control = () => new LocalProcessControl({ runner: new ExecaRunner(), sudo: null });

function detailsFor(plan: LocalPlan, components: LocalDetails['components'], preserveEtcd: boolean): LocalDetails {
  return {
    kind: 'local',
    version: plan.version,
    nodeName: plan.nodeName,
    serviceCidr: '10.96.0.0/16',
    layout: plan.layout,
    components,
    kubeProxy: { configFile: '', mode: 'iptables', cleanupArgv: [], healthzUrl: '', proxyModeUrl: '' },
    clusterDns: false,
    preserveEtcd,
    sudo: false,
    configFiles: [],
    requiredVirtualServers: [],
  };
}

async function putKey(endpoint: string, key: string, value: string): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const res = await fetch(`${endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(value) }) });
  assert.equal(res.status, 200, await res.text());
}

async function getKey(endpoint: string, key: string): Promise<string | null> {
  const res = await fetch(`${endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64') }) });
  const body = (await res.json()) as { kvs?: { value: string }[] };
  const value = body.kvs?.[0]?.value;
  return value === undefined ? null : Buffer.from(value, 'base64').toString('utf8');
}

async function startEtcd(etcd: ComponentPlan, env: Record<string, string | undefined>): Promise<{ supervisor: Supervisor; record: ReturnType<Supervisor['start']> }> {
  const supervisor = new Supervisor({ control: control(), http: new NodeHttpClient(), log: () => {} });
  const record = supervisor.start('etcd', etcd.argv, etcd.logFile, componentEnv(env, etcd));
  await supervisor.waitHealthy(record, etcd.health, { timeoutMs: 30_000 });
  return { supervisor, record };
}

describe('etcd, for real, through the supervisor', { skip }, () => {
  it('becomes healthy, stops on down, and its data folder is removed', async () => {
    const { plan, etcd, env } = await etcdPlan();
    const { supervisor, record } = await startEtcd(etcd, env);
    const endpoint = etcd.health.url.replace(/\/health$/, '');
    await putKey(endpoint, '/registry/test', 'kept?');
    assert.ok(readdirSync(plan.layout.etcdDir).length > 0);
    supervisor.expectStop(['etcd']);
    const report = await teardownLocal(detailsFor(plan, [record], false), { control: control(), runner: new ExecaRunner(), host: new LocalHost(new ExecaRunner()), kubectl: null, log: () => {}, progress: () => {} });
    assert.deepEqual(report.stops.map((s) => `${s.name} ${s.result}`), ['etcd stopped']);
    assert.equal(report.etcdData, 'removed');
    assert.equal(report.ok, true);
    assert.ok(!existsSync(plan.layout.etcdDir));
    assert.ok(!alive(record.pid));
    assert.equal(supervisor.crashed, null, 'a stop on purpose is not a crash');
  });

  it('PRESERVE_ETCD keeps the data folder, and a new etcd on it still has the data', async () => {
    const { plan, etcd, env } = await etcdPlan({ PRESERVE_ETCD: 'true' });
    const first = await startEtcd(etcd, env);
    const endpoint = etcd.health.url.replace(/\/health$/, '');
    await putKey(endpoint, '/registry/test', 'still here');
    first.supervisor.expectStop(['etcd']);
    const report = await teardownLocal(detailsFor(plan, [first.record], true), { control: control(), runner: new ExecaRunner(), host: new LocalHost(new ExecaRunner()), kubectl: null, log: () => {}, progress: () => {} });
    assert.equal(report.etcdData, 'kept');
    assert.ok(existsSync(join(plan.layout.etcdDir, 'member')));
    const second = await startEtcd(etcd, env);
    assert.equal(await getKey(endpoint, '/registry/test'), 'still here');
    second.supervisor.expectStop(['etcd']);
    await teardownLocal(detailsFor(plan, [second.record], false), { control: control(), runner: new ExecaRunner(), host: new LocalHost(new ExecaRunner()), kubectl: null, log: () => {}, progress: () => {} });
    assert.ok(!existsSync(plan.layout.etcdDir));
  });

  it("reads ETCD_* variables as flags: with kube-local-up's ETCD_VERSION left in, it exits at once (why the plan removes them)", async () => {
    const { etcd, env } = await etcdPlan();
    const supervisor = new Supervisor({ control: control(), http: new NodeHttpClient(), log: () => {} });
    const record = supervisor.start('etcd', etcd.argv, etcd.logFile, env);
    await assert.rejects(supervisor.waitHealthy(record, etcd.health, { timeoutMs: 30_000 }), (error: unknown) => {
      assert.match((error as Error).message, /^etcd exited with code 1 while kube-local-up waited for etcd to become ready$/);
      assert.match((error as { details?: string }).details ?? '', /invalid value "3\.4" for ETCD_VERSION/);
      return true;
    });
  });
});
