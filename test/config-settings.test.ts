import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderEnvExample, withSettingsTable } from '../src/config/env-example.js';
import { resolveSettings } from '../src/config/resolve.js';
import { settingSpecs } from '../src/config/settings.js';
import { isLocalUpError } from '../src/errors.js';
import { ROOT, cleanEnv, runInProcess, tempDir } from './helpers/cli.js';

const dotenv = (values: Record<string, string>) => ({ path: '/project/.env', values });

describe('precedence: flag > environment > .env > default', () => {
  it('takes each value from the highest source that has it', () => {
    const resolved = resolveSettings({
      flags: { proxyMode: 'nftables' },
      env: { KUBE_PROXY_MODE: 'ipvs', CLUSTER_NAME: 'from-env', HOME: '/home/u' },
      dotenv: dotenv({ KUBE_PROXY_MODE: 'iptables', CLUSTER_NAME: 'from-dotenv', IPVS_SCHEDULER: 'wrr' }),
    });
    assert.equal(resolved.values.proxyMode, 'nftables');
    assert.equal(resolved.sources.proxyMode.source, 'flag');
    assert.equal(resolved.values.clusterName, 'from-env');
    assert.equal(resolved.sources.clusterName.source, 'env');
    assert.equal(resolved.values.scheduler, 'wrr');
    assert.equal(resolved.sources.scheduler.source, '.env');
    assert.equal(resolved.sources.scheduler.origin, '/project/.env');
    assert.equal(resolved.values.provider, 'kind');
    assert.equal(resolved.sources.provider.source, 'default');
  });
  it('kube-proxy runs in ipvs mode unless told otherwise (local-up-cluster.sh leaves it to kube-proxy, whose default is iptables)', () => {
    const resolved = resolveSettings({ flags: {}, env: {}, dotenv: null });
    assert.equal(resolved.values.proxyMode, 'ipvs');
    assert.equal(resolved.sources.proxyMode.source, 'default');
  });
  it('treats an empty environment value as unset, like local-up-cluster.sh', () => {
    const resolved = resolveSettings({ flags: {}, env: { KUBE_PROXY_MODE: '' }, dotenv: dotenv({ KUBE_PROXY_MODE: 'ipvs' }) });
    assert.equal(resolved.values.proxyMode, 'ipvs');
  });
  it('computes path defaults from HOME/XDG and from settings above them', () => {
    const resolved = resolveSettings({ flags: { clusterName: 'dev' }, env: { HOME: '/home/u', XDG_STATE_HOME: '/state' }, dotenv: null });
    assert.equal(resolved.values.stateDir, '/state/kube-local-up');
    assert.equal(resolved.values.kubeconfigOut, '/state/kube-local-up/dev/kubeconfig');
    assert.equal(resolved.values.logDir, '/state/kube-local-up/dev/logs');
    assert.equal(resolved.values.labCacheDir, '/home/u/.cache/kube-local-up/lab');
    const expanded = resolveSettings({ flags: {}, env: { HOME: '/home/u' }, dotenv: dotenv({ LOG_DIR: '~/logs' }) });
    assert.equal(expanded.values.logDir, '/home/u/logs');
  });
  it('parses typed values', () => {
    const resolved = resolveSettings({
      flags: {},
      env: { KUBE_VERSION: 'v1.30.2', FEATURE_GATES: 'Foo=true, Bar=false', IPVS_STRICT_ARP: 'yes', KIND_WORKERS: '2', IPVS_EXCLUDE_CIDRS: '10.0.0.0/8,fd00::/8' },
      dotenv: null,
    });
    assert.deepEqual(resolved.values.kubeVersion, { major: 1, minor: 30, patch: 2 });
    assert.deepEqual(resolved.values.featureGates, { Foo: true, Bar: false });
    assert.equal(resolved.values.strictArp, true);
    assert.equal(resolved.values.kindWorkers, 2);
    assert.deepEqual(resolved.values.excludeCidrs, ['10.0.0.0/8', 'fd00::/8']);
  });
  it('takes NODEPORT_ADDRESSES keywords primary, localhost, all once each, with CIDRs (kube-proxy 1.37.2 validateKubeProxyNodePortAddress; older releases are checked with KUBE_VERSION)', () => {
    assert.deepEqual(resolveSettings({ flags: {}, env: { NODEPORT_ADDRESSES: ' primary ' }, dotenv: null }).values.nodePortAddresses, ['primary']);
    assert.deepEqual(resolveSettings({ flags: {}, env: { NODEPORT_ADDRESSES: '10.0.0.0/8,primary,localhost' }, dotenv: null }).values.nodePortAddresses, ['primary', 'localhost', '10.0.0.0/8']);
    assert.throws(() => resolveSettings({ flags: {}, env: { NODEPORT_ADDRESSES: 'all,primary,all' }, dotenv: null }), /NODEPORT_ADDRESSES=.*"all" is given twice/);
    assert.throws(() => resolveSettings({ flags: {}, env: { NODEPORT_ADDRESSES: 'primaryy' }, dotenv: null }), /NODEPORT_ADDRESSES=/);
  });
});

describe('validation', () => {
  const invalid = (env: Record<string, string>): string => {
    try {
      resolveSettings({ flags: {}, env, dotenv: null });
    } catch (error) {
      assert.ok(isLocalUpError(error));
      assert.equal(error.exitCode, 2);
      return error.message;
    }
    assert.fail('expected an error');
  };
  it('names the setting, the value, its source and the valid values', () => {
    assert.match(invalid({ KUBE_PROXY_MODE: 'ipvss' }), /KUBE_PROXY_MODE="ipvss" \(from the environment\) must be one of: iptables, ipvs, nftables/);
    assert.match(invalid({ IPVS_SCHEDULER: 'round-robin' }), /IPVS_SCHEDULER=.*must be one of: rr, wrr, lc/);
    assert.match(invalid({ SERVICE_CLUSTER_IP_RANGE: '10.96.0.0/33' }), /SERVICE_CLUSTER_IP_RANGE.*prefix is at most \/32/);
    assert.match(invalid({ CLUSTER_CIDR: '10.244.0.0' }), /CLUSTER_CIDR.*must be a CIDR/);
    assert.match(invalid({ KUBE_VERSION: '2.0' }), /KUBE_VERSION.*Kubernetes version such as 1\.34/);
    assert.match(invalid({ FEATURE_GATES: 'SupportIPVSProxyMode' }), /FEATURE_GATES.*Name=true/);
    assert.match(invalid({ CLUSTER_NAME: 'My_Cluster' }), /CLUSTER_NAME.*a-z, 0-9/);
    assert.match(invalid({ IPVS_STRICT_ARP: 'maybe' }), /IPVS_STRICT_ARP.*true or false/);
    assert.match(invalid({ IPVS_TCP_TIMEOUT: '15 minutes' }), /IPVS_TCP_TIMEOUT.*duration such as 30s/);
    assert.match(invalid({ KIND_WORKERS: '-1' }), /KIND_WORKERS.*from 0 to 10/);
  });
  // kubeadm (which kind runs) refuses Service ranges with more than 20 host bits: /12 is the largest IPv4
  // range, /108 the largest IPv6 one (k8s cmd/kubeadm/app/constants/constants.go MaximumBitsForServiceSubnet;
  // kube-apiserver's validateMaxCIDRRange has the same 20 before the MultiCIDRServiceAllocator).
  it('refuses Service ranges kubeadm and kube-apiserver refuse: more than 20 host bits', () => {
    for (const range of ['0.0.0.0/0', '10.0.0.0/8', '10.96.0.0/11', 'fd00:10:96::/64', 'fd00:10:96::/107']) {
      assert.match(invalid({ SERVICE_CLUSTER_IP_RANGE: range }), /SERVICE_CLUSTER_IP_RANGE.*too large.*at most 20 host bits/, range);
    }
    for (const range of ['10.96.0.0/12', '10.96.0.0/16', '10.0.0.0/24', 'fd00:10:96::/108', 'fd00:10:96::/112']) {
      const family = range.includes(':') ? { IP_FAMILY: 'ipv6', CLUSTER_CIDR: 'fd00:10:244::/56' } : {};
      assert.equal(resolveSettings({ flags: {}, env: { SERVICE_CLUSTER_IP_RANGE: range, ...family }, dotenv: null }).values.serviceCidr, range);
    }
  });
  it('refuses a Service range with host bits set (10.96.0.1/16 would move the DNS address), naming the network', () => {
    assert.match(invalid({ SERVICE_CLUSTER_IP_RANGE: '10.96.0.1/16' }), /SERVICE_CLUSTER_IP_RANGE="10\.96\.0\.1\/16".*host bits.*10\.96\.0\.0\/16/);
    assert.match(invalid({ IP_FAMILY: 'ipv6', SERVICE_CLUSTER_IP_RANGE: 'fd00:10:96::1/112' }), /host bits.*fd00:10:96::\/112/);
    assert.match(invalid({ CLUSTER_CIDR: '10.244.1.0/16' }), /CLUSTER_CIDR.*host bits.*10\.244\.0\.0\/16/);
  });
  it('refuses a Service range that overlaps the Pod range', () => {
    assert.match(invalid({ SERVICE_CLUSTER_IP_RANGE: '10.244.0.0/16' }), /SERVICE_CLUSTER_IP_RANGE.*overlaps CLUSTER_CIDR/);
    assert.match(invalid({ SERVICE_CLUSTER_IP_RANGE: '10.240.0.0/12' }), /overlaps CLUSTER_CIDR/);
    assert.match(invalid({ CLUSTER_CIDR: '10.96.128.0/20' }), /overlaps CLUSTER_CIDR/);
  });
  it('IP_FAMILY=ipv6 has IPv6 default ranges: kind\'s fd00:10:96::/112 and fd00:10:244::/56 (kind pkg/internal/apis/config/default.go)', () => {
    const v = resolveSettings({ flags: {}, env: { IP_FAMILY: 'ipv6' }, dotenv: null }).values;
    assert.equal(v.serviceCidr, 'fd00:10:96::/112');
    assert.equal(v.clusterCidr, 'fd00:10:244::/56');
  });
  it('reports every bad setting at once', () => {
    const message = invalid({ KUBE_PROXY_MODE: 'x', CLUSTER_PROVIDER: 'minikube' });
    assert.match(message, /KUBE_PROXY_MODE/);
    assert.match(message, /CLUSTER_PROVIDER.*kind, local/);
  });
  it('warns about a likely typo in .env but not about foreign variables', () => {
    const resolved = resolveSettings({ flags: {}, env: {}, dotenv: dotenv({ KUBE_PROXY_MOD: 'ipvs', KIND_EXPERIMENTAL_PROVIDER: 'podman', UNRELATED_THING: '1' }) });
    assert.deepEqual(resolved.warnings, ['/project/.env sets KUBE_PROXY_MOD, which is not a setting; did you mean KUBE_PROXY_MODE?']);
  });
});

describe('the CLI reads settings the same way', () => {
  it('.env is read as dotenv reads it: export prefixes, quotes, inline comments, multiline values (docs/architecture.md)', async () => {
    const project = tempDir();
    writeFileSync(
      join(project, '.env'),
      ['export KUBE_PROXY_MODE=ipvs', 'IPVS_SCHEDULER="lc" # quoted, then a comment', "CLUSTER_NAME='single-quoted'", 'KIND_WORKERS=2 # a comment', 'NOTE="two', 'lines"', 'FEATURE_GATES=A=true,B=false', ''].join('\n'),
    );
    const result = await runInProcess(['config', 'show', '--json'], { projectRoot: project, env: cleanEnv() });
    assert.equal(result.code, 0, result.stderr);
    const rows = (JSON.parse(result.stdout) as { settings: { name: string; value: unknown; source: string }[] }).settings;
    const value = (name: string) => rows.find((r) => r.name === name && r.source === '.env')?.value;
    assert.deepEqual(
      ['KUBE_PROXY_MODE', 'IPVS_SCHEDULER', 'CLUSTER_NAME', 'KIND_WORKERS', 'FEATURE_GATES'].map((name) => String(value(name))),
      ['ipvs', 'lc', 'single-quoted', '2', 'A=true,B=false'],
    );
  });
  it('config show --json lists every setting with its source', async () => {
    const project = tempDir();
    writeFileSync(join(project, '.env'), 'IPVS_SCHEDULER=lc\n');
    const result = await runInProcess(['config', 'show', '--json', '--mode', 'ipvs'], { projectRoot: project, env: cleanEnv({ CLUSTER_NAME: 'envname' }) });
    assert.equal(result.code, 0, result.stderr);
    const rows = (JSON.parse(result.stdout) as { settings: { name: string; value: string; source: string; origin?: string }[] }).settings;
    const row = (name: string) => rows.find((r) => r.name === name);
    assert.deepEqual([row('KUBE_PROXY_MODE')?.value, row('KUBE_PROXY_MODE')?.source], ['ipvs', 'flag']);
    assert.deepEqual([row('CLUSTER_NAME')?.value, row('CLUSTER_NAME')?.source], ['envname', 'env']);
    assert.deepEqual([row('IPVS_SCHEDULER')?.value, row('IPVS_SCHEDULER')?.source, row('IPVS_SCHEDULER')?.origin], ['lc', '.env', join(project, '.env')]);
    assert.deepEqual([row('CLUSTER_PROVIDER')?.value, row('CLUSTER_PROVIDER')?.source], ['kind', 'default']);
    assert.equal(rows.length, Object.keys(settingSpecs({})).length);
  });
  it('--dotenv replaces the project .env, and a missing one is a usage error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ci.env'), 'KUBE_PROXY_MODE=nftables\n');
    const ok = await runInProcess(['config', 'show', '--dotenv', 'ci.env'], { cwd: dir });
    assert.match(ok.stdout, /KUBE_PROXY_MODE\s+nftables\s+\S*ci\.env/);
    const missing = await runInProcess(['config', 'show', '--dotenv', 'nope.env'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--dotenv nope\.env: no such file/);
  });
  it('boolean settings accept --flag and --no-flag', async () => {
    const on = await runInProcess(['config', 'show', '--json', '--strict-arp']);
    const off = await runInProcess(['config', 'show', '--json', '--no-strict-arp'], { env: cleanEnv({ IPVS_STRICT_ARP: 'true' }) });
    const value = (r: { stdout: string }) => (JSON.parse(r.stdout) as { settings: { name: string; value: string }[] }).settings.find((s) => s.name === 'IPVS_STRICT_ARP')?.value;
    assert.equal(value(on), 'true');
    assert.equal(value(off), 'false');
  });
});

describe('documentation stays true to the settings table', () => {
  it('.env.example is generated from the table (run `npm run build && node hack/gen-docs.mjs`)', () => {
    assert.equal(readFileSync(join(ROOT, '.env.example'), 'utf8'), renderEnvExample());
  });
  it('the settings table in README.md is generated from the table (same command)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.equal(readme, withSettingsTable(readme));
    for (const spec of Object.values(settingSpecs({}))) assert.match(readme, new RegExp(`\\| \`${spec.env}\` \\|`), spec.env);
  });
});
