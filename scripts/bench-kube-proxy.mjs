#!/usr/bin/env node
// The scale bench with the real thing (issue 12, item 5): 10,000 Services x 3 endpoints created
// through a real kube-apiserver (with a real etcd), programmed by a real kube-proxy in IPVS mode
// on the lab's kernel, then `local-up assert` of that node against its floor (node start +
// reading /proc/net/ip_vs + JSON.parse of the cluster dump), in the VM and offline on this machine.
// etcd and kube-apiserver run HERE, natively: under the VM's software emulation creating 20,000
// objects would take most of the run. kube-proxy reaches the API server through the VM's only
// network path (src/lab/qemu.ts: user-mode network, restrict=on, one forward).
// Prints "name: value" lines; every speed goal is a ratio measured within this run.
// Usage: node scripts/bench-kube-proxy.mjs   (needs `npm run build`, the lab, and `tools install
// kubernetes` + `tools install etcd`); BENCH_KP_SERVICES (10000), BENCH_KP_ENDPOINTS (3), BENCH_KP_RUNS (3).
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'local-up.js');
const SERVICES = Number(process.env.BENCH_KP_SERVICES ?? 10000);
const ENDPOINTS = Number(process.env.BENCH_KP_ENDPOINTS ?? 3);
const RUNS = Number(process.env.BENCH_KP_RUNS ?? 3);
/** Requests in flight while creating objects (the API server's default max-mutating-requests-inflight is 200). */
const PARALLEL = 32;
const NAMESPACE = 'bench';
const NODE_NAME = 'bench-node';
const TOKEN = 'bench-admin-token';
const GOAL = 1.25;
/** Milliseconds: etcd and the API server starting natively on a loaded machine; one kubectl listing. */
const START_TIMEOUT_MS = 300_000;
const KUBECTL_TIMEOUT_MS = 600_000;
/** Seconds for the whole VM run: boot, kube-proxy's start and first sync of every Service under emulation, the asserts. */
const VM_TIMEOUT_SECONDS = Number(process.env.LAB_TIMEOUT ?? 3000);

const { ExecaRunner } = await import('../dist/exec/execa-runner.js');
const { resolveSettings } = await import('../dist/config/resolve.js');
const { prepareLab, runScriptInLab, LAB_NET } = await import('../dist/lab/index.js');
const { listInstalled } = await import('../dist/tools/install.js');
const { toolSetBinDir } = await import('../dist/tools/layout.js');
const { formatKubeVersion } = await import('../dist/config/kube-version.js');

const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
const log = (line) => process.stderr.write(`bench-kube-proxy: ${line}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

console.log(`# kube-proxy at scale: ${SERVICES} Services x ${ENDPOINTS} endpoints through a real API server and a real kube-proxy (IPVS)`);
const kubeText = formatKubeVersion(settings.kubeVersion);
const installed = listInstalled(settings.toolsDir);
const kube = installed.find((set) => set.tool === 'kubernetes' && set.version === kubeText);
const etcdSets = installed.filter((set) => set.tool === 'etcd').sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
if (kube === undefined || etcdSets.length === 0) {
  console.log(`kube-proxy-scale: skipped (needs Kubernetes ${kubeText} and etcd from \`local-up tools install kubernetes|etcd\` in ${settings.toolsDir})`);
  process.exit(0);
}
const kubeBin = toolSetBinDir(settings.toolsDir, 'kubernetes', kubeText);
const etcdBin = toolSetBinDir(settings.toolsDir, 'etcd', etcdSets[0].version);
const runner = new ExecaRunner();
let prepared;
try {
  prepared = await prepareLab({ cacheDir: settings.labCacheDir }, { runner, log, isRoot: process.getuid?.() === 0 });
} catch (error) {
  console.log(`kube-proxy-scale: skipped (no lab here: ${error.message})`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'local-up-bench-kp-'));
const children = [];
const stopChildren = () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
};
process.on('exit', stopChildren);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** A free TCP port on 127.0.0.1 (asked of the kernel, released at once). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a component in its own process group, its output to DIR/NAME.log. */
function startComponent(name, file, args) {
  const out = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.on('exit', (code, signal) => {
    if (!stopping) log(`${name} exited (${signal ?? code}); its log: ${join(dir, `${name}.log`)}`);
  });
  children.push(child);
  return child;
}
let stopping = false;

const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL, rejectUnauthorized: false });
let apiPort = 0;
/** One API request: resolves with [status, body]. */
function api(method, path, body, contentType = 'application/json') {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: '127.0.0.1', port: apiPort, method, path, agent, timeout: 60_000,
        headers: { Authorization: `Bearer ${TOKEN}`, ...(data === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': data.length }) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve([res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')]));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(data);
  });
}
async function mustApi(method, path, body) {
  const [status, text] = await api(method, path, body);
  if (status < 200 || status > 299) throw new Error(`${method} ${path}: HTTP ${status}: ${text.slice(0, 400)}`);
  return text;
}
/** Creates every object with PARALLEL requests in flight. */
async function createAll(path, objects) {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) await mustApi('POST', path, objects[next++]);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}
async function waitFor(what, probe) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${START_TIMEOUT_MS / 1000} s; logs in ${dir}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

try {
  // ---- etcd and kube-apiserver, here. fsync off: a throwaway bench cluster (etcd --unsafe-no-fsync).
  const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
  apiPort = await freePort();
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  startComponent('etcd', join(etcdBin, 'etcd'), [
    '--name', 'bench', '--data-dir', join(dir, 'etcd'), '--unsafe-no-fsync',
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `bench=http://127.0.0.1:${etcdPeer}`,
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'tokens.csv'), `${TOKEN},bench-admin,bench-admin,system:masters\n`);
  const apiStarted = performance.now();
  startComponent('kube-apiserver', join(kubeBin, 'kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`, `--cert-dir=${join(dir, 'pki')}`, '--bind-address=127.0.0.1', `--secure-port=${apiPort}`,
    `--advertise-address=${LAB_NET.gateway}`, `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=AlwaysAllow',
    '--service-cluster-ip-range=10.96.0.0/16', '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--enable-priority-and-fairness=false', '--endpoint-reconciler-type=none',
  ]);
  await waitFor('kube-apiserver', async () => (await api('GET', '/readyz'))[0] === 200);
  await waitFor('the default namespace', async () => (await api('GET', '/api/v1/namespaces/default'))[0] === 200);
  console.log(`host.apiserver-ready: ${seconds(performance.now() - apiStarted)}`);

  // ---- the objects: kube-proxy's Node (its InternalIP is the VM's address), the Services, their slices.
  await mustApi('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  await mustApi('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME } } });
  const [patchStatus, patchText] = await api('PATCH', `/api/v1/nodes/${NODE_NAME}/status`, { status: { addresses: [{ type: 'InternalIP', address: LAB_NET.guestAddress }, { type: 'Hostname', address: NODE_NAME }] } }, 'application/merge-patch+json');
  if (patchStatus !== 200) throw new Error(`cannot set the Node's addresses: HTTP ${patchStatus}: ${patchText.slice(0, 300)}`);

  const services = [];
  const slices = [];
  let pod = 1;
  const podIp = (n) => `10.244.${(n >> 8) & 255}.${n & 255}`;
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    services.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] } });
    const endpoints = [];
    // On other nodes, as nearly all of a big cluster's endpoints are for any one node. NOTE: each local
    // endpoint costs kube-proxy one more `ipset add` process (KUBE-LOOP-BACK, pkg/proxy/ipvs/proxier.go
    // v1.34.11), which under emulation would make the first sync hours long; the ClusterIPs already cost one each.
    for (let e = 0; e < ENDPOINTS; e++) endpoints.push({ addresses: [podIp(pod++)], conditions: { ready: true, serving: true, terminating: false }, nodeName: `bench-other-${e}` });
    slices.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${name}-bench`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'kube-local-up-bench' } },
      endpoints, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
  }
  let started = performance.now();
  await createAll(`/api/v1/namespaces/${NAMESPACE}/services`, services);
  const servicesMs = performance.now() - started;
  started = performance.now();
  await createAll(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, slices);
  const slicesMs = performance.now() - started;
  console.log(`host.create-services: ${seconds(servicesMs)} (${(SERVICES / (servicesMs / 1000)).toFixed(0)}/s, ${PARALLEL} in flight)`);
  console.log(`host.create-endpointslices: ${seconds(slicesMs)} (${(SERVICES / (slicesMs / 1000)).toFixed(0)}/s)`);

  // ---- what assert reads: kubectl's dump, timed (the real kubectl, here, against the real API server).
  const kubeconfig = (server) => `apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {server: "${server}", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: "${TOKEN}"}
contexts:
- name: bench
  context: {cluster: bench, user: admin}
current-context: bench
`;
  writeFileSync(join(dir, 'kubeconfig'), kubeconfig(`https://127.0.0.1:${apiPort}`));
  const dumpPath = join(dir, 'cluster.json');
  const kubectlMs = [];
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    const dump = spawnSync(join(kubeBin, 'kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'services,endpointslices', '-A', '-o', 'json'], { maxBuffer: 1 << 30, timeout: KUBECTL_TIMEOUT_MS });
    kubectlMs.push(performance.now() - started);
    if (dump.status !== 0) throw new Error(`kubectl get services,endpointslices failed: ${dump.stderr}`);
    if (i === 0) writeFileSync(dumpPath, dump.stdout);
  }
  const dumpMb = (statSync(dumpPath).size / 1e6).toFixed(1);
  console.log(`host.kubectl-get-services-endpointslices: ${seconds(median(kubectlMs))} (median of ${RUNS}; ${dumpMb} MB of JSON)`);

  // ---- the VM: kube-proxy, its first sync, assert in the guest.
  const guestKubeconfig = kubeconfig(`https://${LAB_NET.forwardAddress}:6443`);
  const config = spawnSync(process.execPath, [bin, 'config', 'kube-proxy', '--mode', 'ipvs', '--k8s-version', kubeText, '--hostname-override', NODE_NAME, '--kubeconfig', '/run/lab/kubeconfig'], { env: { ...process.env, IPVS_SCHEDULER: 'rr' }, timeout: 60_000 });
  if (config.status !== 0) throw new Error(`local-up config kube-proxy failed: ${config.stderr}`);
  // Every Service (the API server's own `kubernetes` one too) is one virtual server; every endpoint one real server; /proc/net/ip_vs has 3 header lines.
  const dump = JSON.parse(readFileSync(dumpPath, 'utf8'));
  const vsCount = dump.items.filter((item) => item.kind === 'Service').length;
  const rsCount = dump.items.filter((item) => item.kind === 'EndpointSlice').reduce((sum, slice) => sum + (slice.endpoints?.length ?? 0), 0);
  const wantLines = 3 + vsCount + rsCount;
  log(`booting the VM; kube-proxy should program ${vsCount} virtual and ${rsCount} real servers (etcd ${etcdSets[0].version} and kube-apiserver ${kubeText} here)`);
  const vmStarted = performance.now();
  const guestOut = [];
  const run = await runScriptInLab(
    {
      cacheDir: settings.labCacheDir, kernel: prepared.kernel, memoryMb: Math.max(settings.labMemory, 3072), cpus: settings.labCpus,
      timeoutSeconds: VM_TIMEOUT_SECONDS, accel: settings.labAccel,
      script: readFileSync(join(root, 'hack', 'bench', 'kube-proxy-guest.sh'), 'utf8'),
      scriptName: 'bench-kube-proxy.sh',
      // kube-proxy's start and first sync get the VM's deadline less 10 minutes for boot and the asserts.
      args: [kubeBin, '/run/lab', LAB_NET.guestAddress, String(LAB_NET.prefixLength), String(wantLines), NODE_NAME, String(RUNS), String(Math.max(600, VM_TIMEOUT_SECONDS - 600))],
      files: { 'kube-proxy.yaml': config.stdout, kubeconfig: guestKubeconfig, 'cluster.json': readFileSync(dumpPath) },
      network: { forwards: [{ guestPort: 6443, command: [process.execPath, join(root, 'hack', 'lab', 'relay.mjs'), '127.0.0.1', String(apiPort)] }] },
      cwd: root,
      env: { PATH: process.env.PATH, HOME: '/root' },
      capture: true,
      onStdout: (chunk) => guestOut.push(chunk),
      onStderr: (chunk) => process.stderr.write(chunk),
    },
    { runner, log },
  );
  const vmMs = performance.now() - vmStarted;
  const stdout = Buffer.concat(guestOut).toString('utf8');
  writeFileSync(join(dir, 'guest-stdout.txt'), stdout);
  if (stdout.includes('@@bench assert-failed')) {
    console.log(`lab.assert: FAILED, the model differs from kube-proxy's table:\n${stdout.split('@@bench assert-failed\n')[1]?.split('@@bench end')[0] ?? ''}`);
  }
  if (run.exitCode !== 0) throw new Error(`the bench VM failed (exit ${run.exitCode}); guest output in ${join(dir, 'guest-stdout.txt')}:\n${run.stderr ?? ''}`);
  const [head, rest = ''] = stdout.split('@@bench ip_vs\n');
  const table = rest.split('@@bench end')[0];
  const samples = new Map();
  let proxyVersion = '';
  for (const line of head.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name?.startsWith('proxy-version-')) proxyVersion = name.slice('proxy-version-'.length).replaceAll('-', ' ');
    if (name === undefined || value === undefined || !/^-?\d+(\.\d+)?$/.test(value)) continue;
    samples.set(name, [...(samples.get(name) ?? []), Number(value)]);
  }
  const m = (name) => (samples.has(name) ? median(samples.get(name)) : NaN);
  console.log(`lab.vm-run: ${seconds(vmMs)} (boot ${seconds(run.bootMs ?? 0)}, ${run.accel}); kube-proxy: ${proxyVersion}`);
  console.log(`lab.kube-proxy-caches-synced: ${seconds(m('proxy-caches-synced-ms'))} after its start (listing ${vsCount} Services and ${dump.items.length - vsCount} EndpointSlices through the forward)`);
  console.log(`lab.kube-proxy-first-sync: ${seconds(m('proxy-first-sync-duration-ms'))} (its /metrics: kubeproxy_sync_proxy_rules_duration_seconds)`);
  console.log(`lab.kube-proxy-programmed: ${seconds(m('proxy-first-sync-end-ms'))} from its start to the end of that sync; table complete seen at ${seconds(m('proxy-seen-complete-ms'))} (${m('table-lines') - 3} lines: ${vsCount} virtual + ${rsCount} real servers)`);
  const labFloor = m('floor-ms');
  const labAssert = m('assert-ms');
  const labRatio = labAssert / labFloor;
  console.log(`lab.assert-floor (node start + read /proc/net/ip_vs + JSON.parse dump): ${labFloor} ms (median of ${RUNS})`);
  console.log(`lab.assert (local-up assert, process start to exit, exit 0): ${labAssert} ms (median of ${RUNS})`);
  console.log(`lab.assert/floor ratio: ${labRatio.toFixed(2)} (goal <= ${GOAL}: ${labRatio <= GOAL ? 'met' : 'NOT met'})`);

  // ---- offline on this machine: the same table kube-proxy programmed and the same dump.
  const tablePath = join(dir, 'ip_vs');
  writeFileSync(tablePath, table);
  const hz = m('hz');
  const time = (args) => {
    const t = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: root, maxBuffer: 1 << 28 });
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stdout.toString().slice(0, 2000)}${result.stderr}`);
    return performance.now() - t;
  };
  const floorArgs = ['hack/bench/assert-floor.mjs', tablePath, dumpPath];
  const assertArgs = [bin, 'assert', '--ipvs', tablePath, '--hz', String(hz), '--cluster', dumpPath, '--node-name', NODE_NAME, '--node-ip', LAB_NET.guestAddress];
  time(floorArgs);
  time(assertArgs);
  const hostFloor = [];
  const hostAssert = [];
  const HOST_RUNS = Math.max(RUNS, 5);
  for (let i = 0; i < HOST_RUNS; i++) {
    hostFloor.push(time(floorArgs));
    hostAssert.push(time(assertArgs));
  }
  const hostRatio = median(hostAssert) / median(hostFloor);
  console.log(`host.assert-floor: ${median(hostFloor).toFixed(0)} ms (median of ${HOST_RUNS})`);
  console.log(`host.assert (offline, kube-proxy's table): ${median(hostAssert).toFixed(0)} ms (median of ${HOST_RUNS})`);
  console.log(`host.assert/floor ratio: ${hostRatio.toFixed(2)} (goal <= ${GOAL}: ${hostRatio <= GOAL ? 'met' : 'NOT met'})`);
} finally {
  stopping = true;
  stopChildren();
  agent.destroy();
  if (process.env.BENCH_KEEP === '1') log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
