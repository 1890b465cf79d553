// Layer 3 and 4 together: the REAL kind (built here from the pinned release by
// `tools install kind --from-source`) loads the kind Cluster documents we generate.
// No container engine can run here, so kind talks to a stand-in engine
// (test/stand-ins/engine-for-real-kind/docker) that answers only `info` and `ps`:
// kind loads the config strictly (unknown fields are errors in v1alpha4), validates
// it, and only then asks the engine for the node image. Reaching that image request,
// with the image we pinned, is the proof that kind accepted the document.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveSettings } from '../src/config/resolve.js';
import { KIND_VERSION, judgeKindVersion, parseKindVersion } from '../src/providers/kind/release.js';
import { exportKubeconfigArgs } from '../src/providers/kind/kind-cli.js';
import { readInstalledSet } from '../src/tools/install.js';
import { toolSetBinDir } from '../src/tools/layout.js';
import { ROOT, runInProcess, tempDir } from './helpers/cli.js';
import { realRequired, realVersionOrDefault } from './helpers/real-binaries.js';

const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
const kindSet = readInstalledSet(settings.toolsDir, 'kind', KIND_VERSION);
const kind = kindSet === null ? null : join(toolSetBinDir(settings.toolsDir, 'kind', KIND_VERSION), 'kind');
let skip: string | false = false;
if (kind === null) {
  const why = `no kind ${KIND_VERSION} built here (npx local-up tools install kind --from-source)`;
  if (realRequired()) throw new Error(`${why}; CI=true: tests that need real binaries never skip`);
  skip = why;
}
const ENGINE_DIR = join(ROOT, 'test', 'stand-ins', 'engine-for-real-kind');
const v = realVersionOrDefault();
const version = `${v.major}.${v.minor}.${v.patch ?? 0}`;

function createWith(config: string): Promise<{ code: number | null; stderr: string; calls: string[] }> {
  const dir = tempDir('real-kind-');
  const file = join(dir, 'kind.yaml');
  const calls = join(dir, 'engine-calls');
  writeFileSync(file, config);
  writeFileSync(calls, '');
  return new Promise((resolve, reject) => {
    const child = spawn(kind as string, ['create', 'cluster', '--config', file, '--kubeconfig', join(dir, 'kubeconfig'), '--retain'], {
      env: { PATH: `${ENGINE_DIR}:/usr/bin:/bin`, HOME: dir, ENGINE_CALLS: calls, KIND_EXPERIMENTAL_PROVIDER: 'docker' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, calls: readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '') });
    });
  });
}

async function ourKindConfig(args: readonly string[]): Promise<string> {
  const result = await runInProcess(['config', 'kind', '--k8s-version', version, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

const imageCall = (calls: readonly string[]) => calls.find((c) => /^(pull|inspect --type=image|image inspect) /.test(c));

describe(`real kind ${KIND_VERSION} loads our kind Cluster documents`, { skip }, () => {
  const cases: readonly { name: string; args: readonly string[] }[] = [
    { name: 'ipvs, one node', args: ['--mode', 'ipvs'] },
    { name: 'ipvs, two workers, every IPVS setting', args: ['--mode', 'ipvs', '--workers', '2', '--scheduler', 'wrr', '--strict-arp', '--ipvs-sync-period', '45s', '--ipvs-tcp-timeout', '900s', '--exclude-cidrs', '192.168.50.0/24'] },
    { name: 'iptables', args: ['--mode', 'iptables'] },
    { name: 'nftables', args: ['--mode', 'nftables'] },
    { name: 'ipv6', args: ['--mode', 'ipvs', '--ip-family', 'ipv6', '--service-cidr', 'fd00:10:96::/112', '--cluster-cidr', 'fd00:10:244::/56'] },
    { name: 'dual-stack', args: ['--mode', 'ipvs', '--ip-family', 'dual'] },
  ];
  for (const c of cases) {
    it(`${c.name}: accepted, and kind asks for exactly the node image we pinned`, async (t) => {
      let config: string;
      try {
        config = await ourKindConfig(c.args);
      } catch (error) {
        // A combination our own validation refuses is not kind's to judge.
        t.skip(`local-up config kind refused it: ${(error as Error).message.split('\n')[0] ?? ''}`);
        return;
      }
      const pinned = /image: (\S+)/.exec(config)?.[1];
      assert.ok(pinned, 'the config names an image');
      const result = await createWith(config);
      assert.notEqual(result.code, 0, 'nothing can really start here');
      assert.doesNotMatch(result.stderr, /unable to decode config|not found in type|unknown field|invalid configuration|failed to load config|error converting YAML/i, result.stderr);
      const call = imageCall(result.calls);
      assert.ok(call !== undefined, `kind never reached its image step; calls: ${result.calls.join(' | ')}\n${result.stderr}`);
      assert.ok(call.includes(pinned), `kind asked for ${call}, we pinned ${pinned}`);
    });
  }

  it('negative control: kind refuses an unknown field before it touches an image', async () => {
    const config = (await ourKindConfig(['--mode', 'ipvs'])).replace('networking:', 'networking:\n  kubeProxyModes: ipvs');
    const result = await createWith(config);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unable to decode config[\s\S]*field kubeProxyModes not found in type v1alpha4\.Networking/);
    assert.equal(imageCall(result.calls), undefined);
  });

  it('negative control: kind refuses a proxy mode it does not know', async () => {
    const config = (await ourKindConfig(['--mode', 'ipvs'])).replace('kubeProxyMode: ipvs', 'kubeProxyMode: ipvss');
    const result = await createWith(config);
    assert.notEqual(result.code, 0);
    assert.equal(imageCall(result.calls), undefined, result.stderr);
  });
});

// Issue 16: kind's own answers where this machine lets real kind give them.
describe(`real kind ${KIND_VERSION}: its version and export kubeconfig`, { skip }, () => {
  it('`kind version` reads as the pinned release and passes the version check', () => {
    const out = spawnSync(kind as string, ['version'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    const parsed = parseKindVersion(out.stdout);
    assert.ok(parsed !== null, `unreadable: ${out.stdout}`);
    assert.equal(parsed.version, KIND_VERSION);
    assert.equal(judgeKindVersion(out.stdout, '', '/managed/kind').status, 'pass');
  });

  it('`kind export kubeconfig --name N --kubeconfig FILE` (the args up --reuse passes) writes FILE for N', () => {
    const dir = tempDir('real-kind-export-');
    const calls = join(dir, 'engine-calls');
    writeFileSync(calls, '');
    const out = join(dir, 'state', 'kubeconfig');
    const result = spawnSync(kind as string, exportKubeconfigArgs('dev', out), {
      env: { PATH: `${ENGINE_DIR}:/usr/bin:/bin`, HOME: dir, ENGINE_CALLS: calls, ENGINE_CLUSTER: 'dev', KIND_EXPERIMENTAL_PROVIDER: 'docker' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const written = readFileSync(out, 'utf8');
    assert.match(written, /^current-context: kind-dev$/m);
    assert.match(written, /server: https:\/\/127\.0\.0\.1:40123/);
    // It read the control plane's admin.conf through the engine, and touched no other kubeconfig.
    assert.ok(readFileSync(calls, 'utf8').includes('exec --privileged dev-control-plane cat /etc/kubernetes/admin.conf'));
    assert.equal(spawnSync('test', ['-e', join(dir, '.kube', 'config')]).status, 1);
  });

  it('negative control: a cluster the engine does not have is an error', () => {
    const dir = tempDir('real-kind-export-');
    writeFileSync(join(dir, 'calls'), '');
    const result = spawnSync(kind as string, exportKubeconfigArgs('other', join(dir, 'kubeconfig')), {
      env: { PATH: `${ENGINE_DIR}:/usr/bin:/bin`, HOME: dir, ENGINE_CALLS: join(dir, 'calls'), ENGINE_CLUSTER: 'dev', KIND_EXPERIMENTAL_PROVIDER: 'docker' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /could not locate any control plane nodes for cluster named 'other'/);
  });
});
