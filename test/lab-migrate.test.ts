// Leaving IPVS, with the real kube-proxy (issue 15): ONE lab VM runs a real etcd,
// kube-apiserver and kube-proxy 1.34 (hack/migrate/guest.sh) in IPVS mode on a few
// catalogue cases plus one Service with a real endpoint, then switches kube-proxy to
// nftables, back to IPVS, to iptables without cleanup, and runs `kube-proxy --cleanup`.
// What migrate-check predicted while IPVS ran must be what the probes saw change, and
// `assert --mode` must name the leftovers exactly when they are there.
// Under CI=true a missing lab or binary set fails; elsewhere the test skips.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runScriptInLab } from '../src/lab/index.js';
import { ORACLE_NODE, planOracleFiles, readOracleCase } from '../src/oracle/cases.js';
import { ROOT, runBin } from './helpers/cli.js';
import { labAvailability, labDeps } from './helpers/lab.js';
import { findRealSet } from './helpers/real-binaries.js';

const OUT_DIR = process.env.MIGRATE_OUT_DIR ?? join(tmpdir(), 'kube-local-up-migrate');
/** The API server and kube-proxy need more than the lab's default 1 GiB. */
const MEMORY_MB = Number(process.env.LAB_MEMORY_MB ?? 3072);
/** Seconds for the whole VM run: the API server's start under software emulation, four kube-proxy starts, the CLI runs. */
const TIMEOUT_SECONDS = Number(process.env.LAB_TIMEOUT ?? 2400);
const CLI_TIMEOUT_MS = 60_000;
const GUEST_KUBECONFIG = '/tmp/kube-local-up-migrate/kubeconfig';
/** Catalogue cases created next to the probe Service (their endpoints never answer: they feed migrate-check). */
const CATALOGUE = ['affinity-clientip', 'external-ips', 'nodeport'];
const PROBE = { clusterIP: '10.96.200.10', nodePort: 30900, podIP: '10.244.200.10' } as const;

const ci = process.env.CI === 'true';
const lab = await labAvailability();
const real = findRealSet();
const skip = lab.skip ?? ('skip' in real ? real.skip : undefined);
if (skip !== undefined && ci) throw new Error(`lab-migrate: CI=true and ${skip}; this test never skips in CI`);

/** "@@migrate NAME" sections of the guest's stdout. */
function sectionsOf(stdout: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('@@migrate ')) {
      if (name !== null) sections.set(name, lines.join('\n'));
      name = line.slice('@@migrate '.length).trim();
      lines = [];
    } else if (name !== null) lines.push(line);
  }
  if (name !== null) sections.set(name, lines.join('\n'));
  return sections;
}

/** "name code answer" lines of a probes section. */
function probesOf(text: string): Record<string, { code: number; answer: string }> {
  const result: Record<string, { code: number; answer: string }> = {};
  for (const line of text.split('\n')) {
    const match = /^(\S+) (\d+) ?(.*)$/.exec(line);
    if (match !== null) result[match[1] as string] = { code: Number(match[2]), answer: (match[3] as string).trim() };
  }
  return result;
}

function probeObjects(proxyConfig: string): { list: string; files: Record<string, string> } {
  const service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'probe', namespace: 'default' },
    spec: { type: 'NodePort', clusterIP: PROBE.clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: PROBE.nodePort, protocol: 'TCP' }] },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'probe-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'probe', 'endpointslice.kubernetes.io/managed-by': 'kube-local-up-migrate' } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [PROBE.podIP], conditions: { ready: true }, nodeName: ORACLE_NODE.name }],
  };
  // kubeadm keeps kube-proxy's configuration here (key config.conf); migrate-check reads it.
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': proxyConfig } };
  return {
    list: ['/api/v1/namespaces/default/services probe-service.json', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices probe-slice.json', '/api/v1/namespaces/kube-system/configmaps kube-proxy-configmap.json', ''].join('\n'),
    files: { 'probe-service.json': JSON.stringify(service), 'probe-slice.json': JSON.stringify(slice), 'kube-proxy-configmap.json': JSON.stringify(configMap) },
  };
}

async function kubeProxyConfig(mode: string, env: Record<string, string>): Promise<string> {
  const result = await runBin(['config', 'kube-proxy', '--mode', mode, '--hostname-override', ORACLE_NODE.name, '--kubeconfig', GUEST_KUBECONFIG], { cwd: ROOT, timeoutMs: CLI_TIMEOUT_MS, env: { ...process.env, ...env } });
  if (result.code !== 0) throw new Error(`local-up config kube-proxy --mode ${mode} failed: ${result.stderr}`);
  return result.stdout;
}

describe('leaving IPVS with the real kube-proxy: migrate-check predictions and leftovers', { skip: skip ?? false }, () => {
  let sections = new Map<string, string>();
  let failure: string | undefined;

  before(async () => {
    if (lab.skip !== undefined || 'skip' in real) return;
    mkdirSync(OUT_DIR, { recursive: true });
    // The IPVS configuration carries IPVS-only settings, so migrate-check has something to report.
    const ipvs = await kubeProxyConfig('ipvs', { IPVS_SCHEDULER: 'rr', IPVS_STRICT_ARP: 'true', IPVS_TCP_TIMEOUT: '900s', IPVS_UDP_TIMEOUT: '60s' });
    const nftables = await kubeProxyConfig('nftables', {});
    const iptables = await kubeProxyConfig('iptables', {});
    const cases = CATALOGUE.map((name) => readOracleCase(name, readFileSync(join(ROOT, 'test', 'fixtures', 'oracle', `${name}.yaml`), 'utf8')));
    const objects = probeObjects(ipvs);
    const files = {
      ...planOracleFiles(cases),
      ...objects.files,
      'objects.list': objects.list,
      'kube-proxy-ipvs.yaml': ipvs,
      'kube-proxy-nftables.yaml': nftables,
      'kube-proxy-iptables.yaml': iptables,
    };
    const started = Date.now();
    const run = await runScriptInLab(
      {
        ...lab.machine,
        memoryMb: MEMORY_MB,
        timeoutSeconds: TIMEOUT_SECONDS,
        script: readFileSync(join(ROOT, 'hack', 'migrate', 'guest.sh'), 'utf8'),
        scriptName: 'guest-migrate.sh',
        args: [real.binDir, '/run/lab', ROOT],
        files,
        cwd: ROOT,
        // Debugging knobs of the guest script pass through when set.
        env: { PATH: process.env.PATH, HOME: '/root', ...Object.fromEntries(['PROXY_VERBOSITY', 'PROXY_START_TIMEOUT', 'FAIL_LOG_LINES'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])) },
        capture: true,
        onStderr: (chunk) => process.stderr.write(chunk),
      },
      labDeps(),
    );
    writeFileSync(join(OUT_DIR, 'guest-stdout.txt'), run.stdout ?? '');
    writeFileSync(join(OUT_DIR, 'guest-stderr.txt'), run.stderr ?? '');
    process.stderr.write(`# migrate: VM run ${((Date.now() - started) / 1000).toFixed(0)}s, exit ${run.exitCode}, output in ${OUT_DIR}\n`);
    sections = sectionsOf(run.stdout ?? '');
    if (run.exitCode !== 0 || !sections.has('end')) failure = `the VM exited ${run.exitCode}${sections.has('end') ? '' : ' before its end'}:\n${run.stderr ?? ''}\n${run.consoleTail}`;
  });

  it('runs the real kube-proxy of the installed set', () => {
    if (failure !== undefined) assert.fail(failure);
    assert.ok(!('skip' in real));
    assert.match(sections.get('version') ?? '', new RegExp(`Kubernetes v${real.versionText.replaceAll('.', '\\.')}`));
  });

  /** A CLI run's output and exit code ("exit N" ends its section). */
  const cliRun = (name: string): { out: string; code: number } => {
    const text = sections.get(`cli ${name}`) ?? '';
    const code = /^exit (\d+)$/m.exec(text);
    return { out: text.slice(0, code?.index ?? text.length).trim(), code: code === null ? -1 : Number(code[1]) };
  };
  const probes = (mode: string) => probesOf(sections.get(`probes ${mode}`) ?? '');
  const inventory = (mode: string) => sections.get(`inventory ${mode}`) ?? '';
  type Finding = { rule: string; severity: string; scope: string; subject: string; message: string };
  const findings = (name: string): Finding[] => {
    const run = cliRun(name);
    assert.ok(run.code === 0 || run.code === 1, `migrate-check failed (${run.code}):\n${sections.get(`cli ${name}`) ?? ''}`);
    return (JSON.parse(run.out) as { findings: Finding[] }).findings;
  };
  /** "answers": the probe reached the pod (or, for the host listener, the node's own server). */
  const answered = (p: { code: number; answer: string } | undefined): boolean => p !== undefined && p.code === 0 && p.answer !== '';

  it('IPVS answers on the Service as kube-proxy programmed it (the probes work at all)', () => {
    if (failure !== undefined) assert.fail(failure);
    process.stderr.write(`# migrate: probes: ${JSON.stringify({ ipvs: probes('ipvs'), nftables: probes('nftables'), iptables: probes('iptables') })}\n`);
    for (const mode of ['ipvs', 'nftables', 'iptables']) {
      assert.deepEqual(probes(mode)['cluster-ip-service-port'], { code: 0, answer: 'pod' }, `${mode}: ClusterIP:80 reaches the pod`);
      assert.deepEqual(probes(mode)['nodeport-node-ip'], { code: 0, answer: 'pod' }, `${mode}: the NodePort on the Node's InternalIP reaches the pod`);
    }
  });

  it("nodePortAddresses: migrate-check's prediction for the second address is what changed", () => {
    if (failure !== undefined) assert.fail(failure);
    const predicted = findings('migrate-check-nftables-json').find((f) => f.rule === 'nodeport-addresses' && f.subject === ORACLE_NODE.name);
    const saysLost = predicted !== undefined && predicted.severity === 'change' && predicted.message.includes('192.168.60.10');
    assert.equal(answered(probes('ipvs')['nodeport-second-ip']) && !answered(probes('nftables')['nodeport-second-ip']), saysLost,
      `predicted: ${predicted?.message ?? 'nothing'}; saw ipvs ${JSON.stringify(probes('ipvs')['nodeport-second-ip'])}, nftables ${JSON.stringify(probes('nftables')['nodeport-second-ip'])}`);
  });

  it("localhost NodePorts: migrate-check's prediction for each target is what changed", () => {
    if (failure !== undefined) assert.fail(failure);
    for (const [target, name] of [['nftables', 'migrate-check-nftables-json'], ['iptables', 'migrate-check-iptables-json']] as const) {
      const predicted = findings(name).find((f) => f.rule === 'localhost-nodeport');
      const before = answered(probes('ipvs')['nodeport-localhost']);
      const after = answered(probes(target)['nodeport-localhost']);
      assert.equal(before !== after, predicted?.severity === 'change', `${target}: predicted ${predicted?.severity ?? 'nothing'} (${predicted?.message ?? ''}); saw ipvs ${before}, ${target} ${after}`);
    }
  });

  it("Service addresses on kube-ipvs0: migrate-check's prediction on host ports and ping is what changed", () => {
    if (failure !== undefined) assert.fail(failure);
    const predicted = findings('migrate-check-nftables-json').find((f) => f.rule === 'service-address-ports');
    assert.ok(predicted !== undefined, 'kube-ipvs0 holds Service addresses, so migrate-check says something about them');
    const ipvs = probes('ipvs');
    const nft = probes('nftables');
    const changed = answered(ipvs['cluster-ip-host-listener']) !== answered(nft['cluster-ip-host-listener']) || (ipvs['ping-cluster-ip']?.code === 0) !== (nft['ping-cluster-ip']?.code === 0);
    assert.equal(changed, predicted.severity === 'change', `predicted ${predicted.severity}: ${predicted.message}; saw ipvs ${JSON.stringify(ipvs)}, nftables ${JSON.stringify(nft)}`);
  });

  /** What the guest's inventory saw left of IPVS mode, from its own listing (not from our reader). */
  const leftoversSeen = (mode: string) => {
    const text = inventory(mode);
    const virtualServers = Number(/^ipvs-virtual-servers (\d+)$/m.exec(text)?.[1] ?? 'NaN');
    const ipsets = (/^ipsets (.*)$/m.exec(text)?.[1] ?? '').split(' ').filter((n) => n !== '');
    return { virtualServers, kubeIpvs0: /^kube-ipvs0 present$/m.test(text), ipv6Sets: ipsets.filter((n) => n.startsWith('KUBE-6-')), ipvsFilterChain: /\bKUBE-IPVS-FILTER\b/.test(/^iptables-chains (.*)$/m.exec(text)?.[1] ?? '') };
  };
  /** `assert --mode` fails exactly when the inventory shows leftovers, and names the IPv6 ipsets it saw. */
  const assertAgreesWithInventory = (mode: string, cli: string) => {
    const seen = leftoversSeen(mode);
    const any = seen.virtualServers > 0 || seen.kubeIpvs0 || seen.ipv6Sets.length > 0 || seen.ipvsFilterChain;
    const run = cliRun(cli);
    assert.equal(run.code, any ? 1 : 0, `inventory ${JSON.stringify(seen)}; assert said:\n${run.out}`);
    for (const set of seen.ipv6Sets) assert.ok(run.out.includes(set), `${set} is left on the node but assert does not name it:\n${run.out}`);
    if (seen.kubeIpvs0) assert.match(run.out, /^FAIL kube-ipvs0: /m);
    return seen;
  };

  it('leftovers: nftables mode removes IPVS state at start except the IPv6 ipsets, and assert --mode nftables says exactly that', () => {
    if (failure !== undefined) assert.fail(failure);
    assert.match(inventory('ipvs'), /^kube-ipvs0 present$/m, 'IPVS mode made kube-ipvs0');
    // Predicted from pkg/proxy/ipvs/proxier.go cleanupLeftovers: flush, kube-ipvs0 deleted, only IPv4 ipset names destroyed.
    const predicted = findings('migrate-check-nftables-json').find((f) => f.rule === 'ipvs-state-cleanup' && f.scope === 'kube-proxy');
    assert.match(predicted?.message ?? '', /removes IPVS state itself.*except the IPv6 ipsets KUBE-6-\*/);
    const seen = assertAgreesWithInventory('nftables', 'assert-nftables');
    assert.equal(seen.virtualServers, 0);
    assert.equal(seen.kubeIpvs0, false);
  });

  it('leftovers: iptables mode started without cleanup leaves IPVS behind and assert --mode iptables names it; after kube-proxy --cleanup only the IPv6 ipsets remain, still named', () => {
    if (failure !== undefined) assert.fail(failure);
    const predicted = findings('migrate-check-iptables-json').find((f) => f.rule === 'ipvs-state-cleanup');
    assert.equal(predicted?.severity, 'change');
    const seen = assertAgreesWithInventory('iptables', 'assert-iptables');
    assert.ok(seen.virtualServers > 0 && seen.kubeIpvs0 && seen.ipvsFilterChain, JSON.stringify(seen));
    const run = cliRun('assert-iptables');
    assert.match(run.out, /^FAIL ipvs-virtual-servers: [1-9]\d* IPVS virtual servers/m);
    assert.match(run.out, /^FAIL ipvs-ipsets: IPVS-mode ipsets: .*KUBE-CLUSTER-IP/m);
    assert.match(run.out, /^FAIL ipvs-chains: IPVS-mode iptables chains: .*filter\/KUBE-IPVS-FILTER/m);
    // kube-proxy --cleanup's own exit status is upstream behaviour: recorded, not judged.
    process.stderr.write(`# migrate: kube-proxy --cleanup: ${(sections.get('cleanup') ?? '').trim()}\n`);
    const after = assertAgreesWithInventory('after-cleanup', 'assert-after-cleanup');
    assert.equal(after.virtualServers, 0);
    assert.equal(after.kubeIpvs0, false);
  });

  it('migrate-check prints a text report against the real API server (kept for the README)', () => {
    if (failure !== undefined) assert.fail(failure);
    const run = cliRun('migrate-check-nftables');
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /^Leaving IPVS for nftables: /);
    writeFileSync(join(OUT_DIR, 'migrate-check-nftables.txt'), `${run.out}\n`);
  });
});
