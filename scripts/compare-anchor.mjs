#!/usr/bin/env node
// Our local provider side by side with upstream's hack/local-up-cluster.sh, in ONE lab VM
// (issue #13, part 3), and docs/compared-with-local-up-cluster.md regenerated from that run.
// On this machine: `local-up tools images` (the pause, CoreDNS and agnhost archives), the
// Kubernetes module source at KUBE_VERSION from Go's module cache (`go mod download`; the
// script is run from there, never copied into this repository), cfssl and cfssljson built with
// `go install` into the tools cache (the script downloads them otherwise). In the VM,
// hack/lab-local/anchor-guest.sh runs ours (`up --detach`, `assert`, `down`, leftovers) and
// then the script (start, `assert`, Ctrl-C, leftovers), measured the same way.
// Writes docs/compared-with-local-up-cluster.json and .md (ANCHOR_OUT_DIR to write elsewhere),
// and the guest's raw output next to them in ANCHOR_RAW (default: the system temp dir).
//
// Needs: what `npm run e2e:lab` needs (real binaries, Debian's containerd, runc and CNI plugins,
// the lab kernel) plus sudo (the script runs its kubelet and kube-proxy with it) and Go.
// VM size: LAB_MEMORY_MB (default here 3072), LAB_CPUS (2), LAB_TIMEOUT (default here 3600 s).
// Exit code: 0 when both sides were measured (whatever they showed), 1 otherwise.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { readAnchorOutput } from '../dist/anchor/record.js';
import { ANCHOR_RESULT_SCHEMA, renderAnchorDoc, readAnchorResult } from '../dist/anchor/doc.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'local-up.js');
const KUBE_VERSION = process.env.KUBE_VERSION ?? '1.34.11';
const ETCD_VERSION = process.env.ANCHOR_ETCD_VERSION ?? '3.6.5';
// cfssl v1.7 needs Go 1.27; v1.6.5 is the newest that builds with the Go here.
const CFSSL_VERSION = process.env.ANCHOR_CFSSL_VERSION ?? 'v1.6.5';
const cache = process.env.TOOLS_DIR ?? join(homedir(), '.cache', 'kube-local-up');
const goCache = join(cache, 'go');
const kubeBin = join(cache, 'bin', `kubernetes-${KUBE_VERSION}`, 'bin');
const etcdBin = join(cache, 'bin', `etcd-${ETCD_VERSION}`, 'bin');
const cfsslBin = join(cache, 'anchor', `cfssl-${CFSSL_VERSION}`, 'bin');
const outDir = process.env.ANCHOR_OUT_DIR ?? join(root, 'docs');
const env = {
  ...process.env,
  PATH: `${process.env.PATH}:/usr/local/go/bin`,
  LAB_MEMORY_MB: process.env.LAB_MEMORY_MB ?? '3072',
  LAB_CPUS: process.env.LAB_CPUS ?? '2',
  LAB_TIMEOUT: process.env.LAB_TIMEOUT ?? '3600',
};
const goEnv = { ...env, GOMODCACHE: join(goCache, 'mod'), GOCACHE: join(goCache, 'build'), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
const quiet = $({ env, nothrow: true, verbose: false, quiet: true });
const fail = (message) => {
  console.error(`compare-anchor: ${message}`);
  process.exit(1);
};

for (const [what, dir, file] of [['Kubernetes binaries', kubeBin, 'kube-apiserver'], ['etcd', etcdBin, 'etcd']]) {
  if (!existsSync(join(dir, file))) fail(`${what} not found in ${dir}: run npm run setup (tools install)`);
}

console.error('=== compare-anchor: local-up tools images (on this machine)');
const images = await $({ env, nothrow: true, verbose: false, stdio: ['ignore', 'pipe', 'inherit'] })`node ${cli} tools images`;
if (images.exitCode !== 0) fail(`tools images failed (exit ${images.exitCode})`);

console.error(`=== compare-anchor: k8s.io/kubernetes@v${KUBE_VERSION} from Go's module cache`);
const download = await quiet({ env: goEnv, cwd: tmpdir() })`go mod download -json k8s.io/kubernetes@v${KUBE_VERSION}`;
if (download.exitCode !== 0) fail(`go mod download failed: ${download.stderr.trim() || download.stdout.trim()}`);
const kubeRoot = JSON.parse(download.stdout).Dir;
if (typeof kubeRoot !== 'string' || !existsSync(join(kubeRoot, 'hack', 'local-up-cluster.sh'))) fail(`no hack/local-up-cluster.sh in ${kubeRoot}`);

if (!existsSync(join(cfsslBin, 'cfssl')) || !existsSync(join(cfsslBin, 'cfssljson'))) {
  console.error(`=== compare-anchor: go install cfssl and cfssljson ${CFSSL_VERSION} into ${cfsslBin}`);
  mkdirSync(cfsslBin, { recursive: true });
  const built = await $({ env: { ...goEnv, GOBIN: cfsslBin, GOFLAGS: '' }, cwd: tmpdir(), nothrow: true, verbose: false, stdio: ['ignore', 'inherit', 'inherit'] })`nice -n 10 go install github.com/cloudflare/cfssl/cmd/cfssl@${CFSSL_VERSION} github.com/cloudflare/cfssl/cmd/cfssljson@${CFSSL_VERSION}`;
  if (built.exitCode !== 0) fail(`go install cfssl failed (exit ${built.exitCode})`);
}

console.error(`=== compare-anchor: one lab VM (${env.LAB_MEMORY_MB} MiB, ${env.LAB_CPUS} CPUs, up to ${env.LAB_TIMEOUT}s): ours, then hack/local-up-cluster.sh`);
const vmStarted = Date.now();
// bash reads a script as it runs it: the VM runs a copy, so editing the checkout meanwhile cannot change the run.
const guestDir = mkdtempSync(join(tmpdir(), 'kube-local-up-anchor-guest-'));
for (const file of ['anchor-guest.sh', 'node.sh']) copyFileSync(join(root, 'hack', 'lab-local', file), join(guestDir, file));
const vm = $({ env, nothrow: true, verbose: false, quiet: true })`node ${cli} lab -- bash ${join(guestDir, 'anchor-guest.sh')} ${root} ${kubeRoot} ${kubeBin} ${etcdBin} ${cfsslBin}`;
vm.stderr.on('data', (chunk) => process.stderr.write(chunk));
const result = await vm;
const vmSeconds = Math.round((Date.now() - vmStarted) / 1000);
rmSync(guestDir, { recursive: true, force: true });
const raw = process.env.ANCHOR_RAW ?? join(tmpdir(), `kube-local-up-anchor-${new Date().toISOString().replace(/[:.]/g, '-')}.out`);
writeFileSync(raw, result.stdout);
console.error(`compare-anchor: the guest's output is in ${raw} (VM exit ${result.exitCode}, ${vmSeconds}s)`);

const record = readAnchorOutput(result.stdout);
if (record.sides.ours === undefined || record.sides.upstream === undefined) fail('the VM did not measure both sides; see the output above');
// Without /dev/kvm (or with LAB_ACCEL=tcg) the lab emulates the CPU.
const accel = env.LAB_ACCEL === 'tcg' || !existsSync('/dev/kvm') ? 'tcg' : 'kvm';
const saved = {
  schema: ANCHOR_RESULT_SCHEMA,
  date: new Date().toISOString().slice(0, 10),
  lab: { memoryMb: Number(env.LAB_MEMORY_MB), cpus: Number(env.LAB_CPUS), accel, vmSeconds },
  upstreamModule: `k8s.io/kubernetes@v${KUBE_VERSION}`,
  cfssl: CFSSL_VERSION,
  record,
};
const json = `${JSON.stringify(saved, null, 2)}\n`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'compared-with-local-up-cluster.json'), json);
writeFileSync(join(outDir, 'compared-with-local-up-cluster.md'), renderAnchorDoc(readAnchorResult(json, 'the new run')));
console.error(`compare-anchor: wrote ${join(outDir, 'compared-with-local-up-cluster.json')} and .md`);
process.exit(result.exitCode === 0 ? 0 : 1);
