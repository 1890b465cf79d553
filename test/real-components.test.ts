// Layer 3: real Kubernetes components (built here by `tools install kubernetes
// --from-source`, or downloaded) read what kube-local-up generates. Where our
// output and a real component disagree, the component is right.
//
// How each component is made to check and exit (from its source at the version under test):
// - kube-proxy: `--config F --write-config-to OUT` loads F (strict decoding, with a lenient
//   fallback it logs as "Using lenient decoding as strict decoding failed"), validates it
//   (cmd/kube-proxy/app/server.go: Complete, Validate), then writes the configuration it
//   loaded and exits (options.go: Run → writeConfigFile). OUT is kube-proxy's own account of
//   every field, compared here with what we wrote.
// - kube-scheduler: `--write-config-to OUT` writes the completed configuration after
//   validation and exits 0 (cmd/kube-scheduler/app/options/configfile.go: LogOrWriteConfig).
// - kubelet: loads and validates --config before anything else (cmd/kubelet/app/server.go:
//   loadConfigFile, ValidateKubeletConfiguration), then (up to 1.34) logs "KubeletConfiguration"
//   at -v=5 just before it starts running; that line is the proof, and the kubelet is stopped there.
//   1.37 no longer logs it: there the proof is its first error after validation, "failed to run
//   Kubelet:" (server.go v1.37.2: validation at line 265, that error at 553), here the missing CRI socket.
// - kubeadm: `kubeadm config validate --config F`.
// - every component's command line: parsed by the real binary with `--version` appended
//   (flags are parsed before verflag.PrintAndExitIfRequested runs): an unknown flag or a value
//   of the wrong type fails there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { formatKubeVersion } from '../src/config/kube-version.js';
import { resolveSettings } from '../src/config/resolve.js';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import { ensurePki } from '../src/providers/local/pki.js';
import { planLocalCluster } from '../src/providers/local/plan.js';
import type { LocalPlan } from '../src/providers/local/plan.js';
import { runInProcess, tempDir } from './helpers/cli.js';
import { findRealSet, realRequired } from './helpers/real-binaries.js';
import { listInstalled } from '../src/tools/install.js';
import type { RealSet } from './helpers/real-binaries.js';

const found = findRealSet();

/** The etcd `tools install etcd` built (the newest complete set), or null. */
function etcdBin(): string | null {
  const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
  const sets = listInstalled(settings.toolsDir).filter((set) => set.tool === 'etcd');
  if (sets.length === 0) {
    if (realRequired()) throw new Error('no etcd set in TOOLS_DIR; CI=true: tests that need real binaries never skip (npm run setup installs it)');
    return null;
  }
  // The 3.6 line, which Kubernetes 1.34's hack/lib/etcd.sh pins (a machine may also hold 3.7 for 1.37).
  const pinned = sets.filter((set) => set.version.startsWith('3.6.'));
  if (pinned.length === 0) {
    if (realRequired()) throw new Error(`no etcd 3.6.x set in TOOLS_DIR (found ${sets.map((x) => x.version).join(', ')}); npm run setup installs it`);
    return null;
  }
  return join((pinned[pinned.length - 1] as { binDir: string }).binDir, 'etcd');
}
const real: RealSet | null = 'skip' in found ? null : found;
const skip = 'skip' in found ? found.skip : false;
const v = real?.versionText ?? '0.0.0';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a real binary to its end (generous deadline: a 2-core machine under load). */
function run(file: string, args: readonly string[], options: { timeoutMs?: number; stopWhen?: RegExp } = {}): Promise<Ran & { stoppedOn: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stoppedOn: string | null = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    const watch = (chunk: Buffer, into: 'out' | 'err') => {
      const text = chunk.toString('utf8');
      if (into === 'out') stdout += text;
      else stderr += text;
      if (options.stopWhen !== undefined && stoppedOn === null) {
        const match = options.stopWhen.exec(stdout + stderr);
        if (match !== null) {
          stoppedOn = match[0];
          child.kill('SIGKILL');
        }
      }
    };
    child.stdout.on('data', (c: Buffer) => watch(c, 'out'));
    child.stderr.on('data', (c: Buffer) => watch(c, 'err'));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, stoppedOn });
    });
  });
}

const LENIENT = /lenient decoding as strict decoding failed[^\n]*/i;

/** Every leaf we wrote must come back with the same value in the component's own serialisation. */
function assertFieldsKept(ours: unknown, theirs: unknown, path = ''): void {
  const a = goDurationSeconds(ours);
  const b = goDurationSeconds(theirs);
  if (a !== null && b !== null) {
    assert.equal(b, a, `${path}: we wrote ${String(ours)}, the component holds ${String(theirs)}`);
    return;
  }
  if (ours === null || typeof ours !== 'object') {
    assert.deepEqual(theirs, ours, `${path}: we wrote ${JSON.stringify(ours)}, the component holds ${JSON.stringify(theirs)}`);
    return;
  }
  if (Array.isArray(ours)) {
    assert.ok(Array.isArray(theirs), `${path}: we wrote a list, the component holds ${JSON.stringify(theirs)}`);
    assert.deepEqual(theirs, ours, `${path}`);
    return;
  }
  assert.ok(theirs !== null && typeof theirs === 'object', `${path}: the component dropped this object`);
  for (const [key, value] of Object.entries(ours)) {
    if (path === '' && (key === 'apiVersion' || key === 'kind')) continue;
    assertFieldsKept(value, (theirs as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
  }
}

/** A Go duration ("900s", "15m0s", "1h2m3.5s", "500ms") in seconds; null for anything else. Go writes durations its own way. */
function goDurationSeconds(value: unknown): number | null {
  if (typeof value !== 'string' || value === '' || !/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(value)) return null;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, n, , u] of value.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) total += Number(n) * (unit[u as string] ?? 0);
  return total;
}

async function ourOutput(args: readonly string[]): Promise<string> {
  const result = await runInProcess([...args, '--k8s-version', v]);
  assert.equal(result.code, 0, `local-up ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The kube-proxy configurations kube-local-up writes: every mode, family and IPVS setting. */
const KUBE_PROXY_CASES: readonly { name: string; args: readonly string[] }[] = [
  { name: 'ipvs (defaults)', args: ['--mode', 'ipvs'] },
  { name: 'iptables', args: ['--mode', 'iptables'] },
  { name: 'nftables', args: ['--mode', 'nftables'] },
  {
    name: 'ipvs with every tuning setting',
    args: ['--mode', 'ipvs', '--scheduler', 'wrr', '--strict-arp', '--ipvs-sync-period', '45s', '--ipvs-min-sync-period', '2s', '--ipvs-tcp-timeout', '900s', '--ipvs-tcpfin-timeout', '120s', '--ipvs-udp-timeout', '300s', '--exclude-cidrs', '192.168.50.0/24,10.10.0.0/16', '--nodeport-addresses', '10.0.0.0/8,192.168.0.0/16'],
  },
  { name: 'ipvs, IPv6 pod range', args: ['--mode', 'ipvs', '--ip-family', 'ipv6', '--cluster-cidr', 'fd00:10:244::/56', '--service-cidr', 'fd00:10:96::/112'] },
  // AllAlpha is known to every release's feature gate; a named gate comes and goes (1.37 no longer knows TopologyAwareHints).
  { name: 'ipvs with a feature gate and a hostname/kubeconfig', args: ['--mode', 'ipvs', '--feature-gates', 'AllAlpha=false', '--hostname-override', 'node-a', '--kubeconfig', '/etc/kubernetes/proxy.kubeconfig'] },
];

describe(`real kube-proxy ${v} reads our KubeProxyConfiguration`, { skip }, () => {
  for (const c of KUBE_PROXY_CASES) {
    it(`${c.name}: loads strictly, validates, and keeps every field`, async () => {
      const dir = tempDir('real-kube-proxy-');
      const text = await ourOutput(['config', 'kube-proxy', ...c.args]);
      writeFileSync(join(dir, 'config.yaml'), text);
      const result = await run((real as RealSet).bin('kube-proxy'), ['--config', join(dir, 'config.yaml'), '--write-config-to', join(dir, 'out.yaml')]);
      assert.equal(result.code, 0, `kube-proxy refused our configuration:\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, LENIENT, 'kube-proxy found a field it does not know');
      assertFieldsKept(YAML.parse(text), YAML.parse(readFileSync(join(dir, 'out.yaml'), 'utf8')));
    });
  }

  it('what kube-proxy understood is what the user asked for (settings in, real configuration out)', async () => {
    const dir = tempDir('real-kube-proxy-asked-');
    const text = await ourOutput(['config', 'kube-proxy', '--mode', 'ipvs', '--scheduler', 'wrr', '--strict-arp', '--ipvs-sync-period', '45s', '--ipvs-min-sync-period', '2s', '--ipvs-tcp-timeout', '900s', '--ipvs-tcpfin-timeout', '120s', '--ipvs-udp-timeout', '300s', '--exclude-cidrs', '192.168.50.0/24,10.10.0.0/16', '--nodeport-addresses', '10.0.0.0/8', '--cluster-cidr', '10.244.0.0/16', '--hostname-override', 'node-a']);
    writeFileSync(join(dir, 'config.yaml'), text);
    const result = await run((real as RealSet).bin('kube-proxy'), ['--config', join(dir, 'config.yaml'), '--write-config-to', join(dir, 'out.yaml')]);
    assert.equal(result.code, 0, result.stderr);
    const c = YAML.parse(readFileSync(join(dir, 'out.yaml'), 'utf8')) as Record<string, unknown> & { ipvs: Record<string, unknown> };
    assert.equal(c.mode, 'ipvs');
    assert.equal(c.clusterCIDR, '10.244.0.0/16');
    assert.equal(c.hostnameOverride, 'node-a');
    assert.deepEqual(c.nodePortAddresses, ['10.0.0.0/8']);
    assert.equal(c.ipvs.scheduler, 'wrr');
    assert.equal(c.ipvs.strictARP, true);
    assert.deepEqual(c.ipvs.excludeCIDRs, ['192.168.50.0/24', '10.10.0.0/16']);
    const seconds = (key: string) => goDurationSeconds(c.ipvs[key]);
    assert.deepEqual([seconds('syncPeriod'), seconds('minSyncPeriod'), seconds('tcpTimeout'), seconds('tcpFinTimeout'), seconds('udpTimeout')], [45, 2, 900, 120, 300]);
  });

  it('the equivalent --flags are accepted and give the same mode and scheduler', async () => {
    const dir = tempDir('real-kube-proxy-flags-');
    const flags = (await ourOutput(['config', 'kube-proxy', '--flags', '--mode', 'ipvs', '--scheduler', 'lc', '--strict-arp'])).split('\n').filter((l) => l !== '');
    const result = await run((real as RealSet).bin('kube-proxy'), [...flags, '--write-config-to', join(dir, 'out.yaml')]);
    assert.equal(result.code, 0, result.stderr);
    const written = YAML.parse(readFileSync(join(dir, 'out.yaml'), 'utf8')) as { mode: string; ipvs: { scheduler: string; strictARP: boolean } };
    assert.equal(written.mode, 'ipvs');
    assert.equal(written.ipvs.scheduler, 'lc');
    assert.equal(written.ipvs.strictARP, true);
  });

  it('negative control: kube-proxy does refuse an invalid value, and reports an unknown field', async () => {
    const dir = tempDir('real-kube-proxy-bad-');
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  tcpTimeout: -5s\n');
    const bad = await run((real as RealSet).bin('kube-proxy'), ['--config', join(dir, 'bad.yaml'), '--write-config-to', join(dir, 'out.yaml')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /TCPTimeout/);
    writeFileSync(join(dir, 'unknown.yaml'), 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  schedular: rr\n');
    const unknown = await run((real as RealSet).bin('kube-proxy'), ['--config', join(dir, 'unknown.yaml'), '--write-config-to', join(dir, 'out2.yaml')]);
    assert.match(unknown.stderr, LENIENT);
  });
});

describe(`real kubeadm ${v} validates our kubeadm documents`, { skip }, () => {
  for (const mode of ['ipvs', 'iptables', 'nftables']) {
    it(`kube-proxy in ${mode} mode`, async () => {
      const dir = tempDir('real-kubeadm-');
      writeFileSync(join(dir, 'kubeadm.yaml'), await ourOutput(['config', 'kubeadm', '--mode', mode]));
      const result = await run((real as RealSet).bin('kubeadm'), ['config', 'validate', '--config', join(dir, 'kubeadm.yaml')]);
      assert.equal(result.code, 0, `kubeadm config validate refused it:\n${result.stdout}${result.stderr}`);
      assert.doesNotMatch(result.stdout + result.stderr, /unknown field|strict decoding error/i);
    });
  }

  it('negative control: kubeadm refuses a document with an unknown field', async () => {
    const dir = tempDir('real-kubeadm-bad-');
    const good = await ourOutput(['config', 'kubeadm', '--mode', 'ipvs']);
    writeFileSync(join(dir, 'kubeadm.yaml'), good.replace('kind: ClusterConfiguration', 'kind: ClusterConfiguration\nnetwrking: {}'));
    const result = await run((real as RealSet).bin('kubeadm'), ['config', 'validate', '--config', join(dir, 'kubeadm.yaml')]);
    assert.notEqual(result.code, 0, result.stdout);
  });
});

/** The local provider's whole plan, written out with a real PKI, for the real set's version. */
async function writtenLocalPlan(extraEnv: Record<string, string> = {}): Promise<{ plan: LocalPlan; root: string }> {
  const root = tempDir('real-local-plan-');
  const env = { PATH: process.env.PATH, HOME: root, STATE_DIR: join(root, 'state'), KUBE_PROXY_MODE: 'ipvs', ...extraEnv };
  const settings = resolveSettings({ flags: {}, env, dotenv: null }).values;
  const set = real as RealSet;
  const binaries = { etcd: 'etcd', 'kube-apiserver': set.bin('kube-apiserver'), 'kube-controller-manager': set.bin('kube-controller-manager'), 'kube-scheduler': set.bin('kube-scheduler'), kubelet: set.bin('kubelet'), 'kube-proxy': set.bin('kube-proxy') };
  // What the provider reads off this host: cgroup v1 unless /sys/fs/cgroup is cgroup2fs (magic 0x63677270).
  const hostCgroupV1 = statfsSync('/sys/fs/cgroup').type !== 0x63677270;
  const plan = planLocalCluster({ settings, version: set.version, binaries, clusterDir: join(root, 'state', 'local-up'), resolvConf: '/etc/resolv.conf', hostCgroupV1 });
  for (const file of plan.files) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content, { mode: file.mode });
  }
  await ensurePki(plan.pki, false, { runner: new ExecaRunner(), openssl: 'openssl' });
  return { plan, root };
}

describe(`the local provider's command lines and files, read by real ${v} components`, { skip }, () => {
  it('every kube-* component accepts every flag of its command line', async () => {
    const { plan } = await writtenLocalPlan();
    const components = plan.components.filter((c) => c.name !== 'etcd');
    assert.equal(components.length, 5);
    for (const component of components) {
      const [file, ...args] = component.argv;
      const result = await run(file as string, [...args, '--version']);
      assert.equal(result.code, 0, `${component.name} refused its command line ${component.argv.join(' ')}:\n${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Kubernetes v${v.replaceAll('.', '\\.')}\\b`));
    }
  });

  it('etcd (built by tools install etcd) accepts every flag of its command line', { skip: etcdBin() === null ? 'no etcd set in TOOLS_DIR (npx local-up tools install etcd --from-source)' : false }, async () => {
    const { plan } = await writtenLocalPlan();
    const etcd = plan.components.find((c) => c.name === 'etcd');
    assert.ok(etcd);
    const result = await run(etcdBin() as string, [...etcd.argv.slice(1), '--version']);
    assert.equal(result.code, 0, `etcd refused its command line ${etcd.argv.join(' ')}:\n${result.stderr}`);
    assert.match(result.stdout, /^etcd Version: 3\.6\.\d+/m);
  });

  it("kube-proxy loads the plan's configuration file in ipvs mode and keeps every field", async () => {
    const { plan, root } = await writtenLocalPlan();
    const out = join(root, 'kube-proxy-out.yaml');
    const result = await run((real as RealSet).bin('kube-proxy'), [`--config=${plan.kubeProxy.configFile}`, '--write-config-to', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, LENIENT);
    assertFieldsKept(YAML.parse(readFileSync(plan.kubeProxy.configFile, 'utf8')), YAML.parse(readFileSync(out, 'utf8')));
  });

  it("kube-scheduler validates the plan's KubeSchedulerConfiguration (with its flags) and writes it back", async () => {
    const { plan, root } = await writtenLocalPlan();
    const scheduler = plan.components.find((c) => c.name === 'kube-scheduler');
    assert.ok(scheduler);
    const out = join(root, 'scheduler-out.yaml');
    const [file, ...args] = scheduler.argv;
    const result = await run(file as string, [...args, '--write-config-to', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, LENIENT);
    const configFile = plan.files.find((f) => f.path.endsWith('kube-scheduler.yaml'));
    assert.ok(configFile);
    assertFieldsKept(YAML.parse(configFile.content), YAML.parse(readFileSync(out, 'utf8')));
  });

  it("the kubelet loads and validates the plan's KubeletConfiguration", async () => {
    const { plan, root } = await writtenLocalPlan();
    const kubelet = plan.components.find((c) => c.name === 'kubelet');
    assert.ok(kubelet);
    const [file, ...args] = kubelet.argv;
    // Its own folders in a temp dir, so nothing on this machine is touched before it is stopped.
    const result = await run(file as string, [...args, '-v=5', `--root-dir=${join(root, 'kubelet')}`, `--cert-dir=${join(root, 'kubelet-pki')}`], { stopWhen: /"KubeletConfiguration" configuration=|failed to run Kubelet:|failed to validate kubelet configuration[^\n]*|failed to load kubelet config file[^\n]*/ });
    assert.doesNotMatch(result.stderr, LENIENT, 'the kubelet found a field it does not know');
    const passedValidation = result.stoppedOn?.startsWith('"KubeletConfiguration"') === true || result.stoppedOn === 'failed to run Kubelet:';
    assert.equal(passedValidation, true, `the kubelet did not accept its configuration:\n${result.stderr.split('\n').slice(-15).join('\n')}`);
  });

  it('negative control: the kubelet refuses an invalid configuration before that point', async () => {
    const { plan, root } = await writtenLocalPlan();
    const config = plan.files.find((f) => f.path.endsWith('kubelet.yaml'));
    assert.ok(config);
    writeFileSync(config.path, config.content.replace(/healthzPort: \d+/, 'healthzPort: 99999'));
    const kubelet = plan.components.find((c) => c.name === 'kubelet');
    const [file, ...args] = kubelet?.argv ?? [];
    const result = await run(file as string, [...args, '-v=5', `--root-dir=${join(root, 'kubelet')}`, `--cert-dir=${join(root, 'kubelet-pki')}`], { stopWhen: /"KubeletConfiguration" configuration=|failed to validate kubelet configuration/ });
    assert.equal(result.stoppedOn, 'failed to validate kubelet configuration');
  });

  it('the installed binaries report exactly their release', async () => {
    const result = await run((real as RealSet).bin('kube-proxy'), ['--version']);
    assert.equal(result.stdout.trim(), `Kubernetes v${formatKubeVersion((real as RealSet).version)}`);
  });
});
