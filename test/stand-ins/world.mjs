// Shared state of the stand-in `kind`, `docker` and `kubectl` (test doubles that
// follow the real tools' documented arguments, output and exit codes). The test
// writes a world.json into $STANDIN_STATE; each stand-in reads and updates it and
// appends its argv to calls.jsonl and its pid to pids.txt, which the tests read.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

export const STATE_DIR = process.env.STANDIN_STATE ?? '';
if (STATE_DIR === '') {
  process.stderr.write('stand-in: STANDIN_STATE is not set\n');
  process.exit(99);
}
const WORLD = join(STATE_DIR, 'world.json');

export function recordCall(tool, argv, extra = {}) {
  appendFileSync(join(STATE_DIR, 'calls.jsonl'), `${JSON.stringify({ tool, argv, pid: process.pid, ...extra })}\n`);
  appendFileSync(join(STATE_DIR, 'pids.txt'), `${process.pid}\n`);
}

export function loadWorld() {
  return JSON.parse(readFileSync(WORLD, 'utf8'));
}

export function saveWorld(world) {
  const temporary = `${WORLD}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(world, null, 2));
  renameSync(temporary, WORLD);
}

/** Writes to stdout/stderr and exits once both are flushed. */
export function finish(code, stdout = '', stderr = '') {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write(stdout, done);
  process.stderr.write(stderr, done);
}

export const engineDownMessage = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

/** Every node container of every cluster: name -> { cluster, node }. */
export function allContainers(world) {
  const map = new Map();
  for (const [name, cluster] of Object.entries(world.clusters ?? {})) {
    for (const node of cluster.nodes) map.set(node.name, { cluster: name, node });
  }
  return map;
}

/** The cluster a kubeconfig points at: kind writes current-context "kind-<name>". */
export function clusterOfKubeconfig(path) {
  if (!existsSync(path)) return { error: `error: stat ${path}: no such file or directory` };
  const match = /current-context:\s*kind-(\S+)/.exec(readFileSync(path, 'utf8'));
  return match === null ? { error: 'error: current-context is not set' } : { name: match[1] };
}

/**
 * A command run inside a node's network namespace (docker exec NODE ..., or kubectl exec into a
 * helper pod on that node). Returns { code, stdout, stderr }; `missing` formats "not found".
 */
export function runOnNode(node, argv, missing) {
  const [file, ...args] = argv;
  const files = node.files ?? {};
  const operand = args.filter((a) => a !== '--').at(-1);
  switch (file) {
    case 'cat':
    case 'zcat':
      if (files[operand] !== undefined) return { code: 0, stdout: files[operand], stderr: '' };
      return { code: 1, stdout: '', stderr: `${file}: ${operand}: No such file or directory\n` };
    case 'ls':
      return { code: 2, stdout: '', stderr: `ls: cannot access '${operand}': No such file or directory\n` };
    case 'ip':
      if (args.join(' ') === '-o addr show') return { code: 0, stdout: node.ipAddr, stderr: '' };
      return { code: 1, stdout: '', stderr: `stand-in ip: unsupported ${args.join(' ')}\n` };
    case 'curl': {
      // kube-proxy listens on its metricsBindAddress only: 127.0.0.1, or [::1] on an IPv6 node (node.metricsAddress).
      const url = args.at(-1);
      const listening = `http://${node.metricsAddress ?? '127.0.0.1'}:10249/proxyMode`;
      if (url === listening && node.proxyMode !== null && node.proxyMode !== undefined) return { code: 0, stdout: node.proxyMode, stderr: '' };
      const asked = /^http:\/\/(\[[^\]]+\]|[^:/]+)/.exec(url ?? '')?.[1] ?? '?';
      return { code: 7, stdout: '', stderr: `curl: (7) Failed to connect to ${asked.replace(/^\[|\]$/g, '')} port 10249 after 0 ms: Couldn't connect to server\n` };
    }
    case 'ipset':
      return { code: 0, stdout: node.ipsets ?? 'Name: KUBE-CLUSTER-IP\nType: hash:ip,port\nMembers:\n', stderr: '' };
    default:
      return { code: 127, stdout: '', stderr: missing(file) };
  }
}

/**
 * The kernel release of the machine the stand-ins play: a Docker Engine on this machine reports (and its
 * nodes run) this machine's kernel, which kube-local-up reads under HOST_ROOT.
 */
export function hostKernelRelease() {
  try {
    return readFileSync(join(process.env.HOST_ROOT ?? '/', 'proc/sys/kernel/osrelease'), 'utf8').trim() || release();
  } catch {
    // No such file under HOST_ROOT: kube-local-up then asks `uname -r`, the real kernel's release.
    return release();
  }
}

/** Sleeps forever (until killed). */
export function hang() {
  setInterval(() => {}, 1 << 30);
}
