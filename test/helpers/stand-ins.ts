// Drives the stand-in kind, docker and kubectl (test/stand-ins/): builds their
// shared world, a bin folder with only the chosen stand-ins, a kernel root with
// IPVS loaded (for HOST_ROOT), and reads back what the stand-ins recorded.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, startBin, tempDir } from './cli.js';
import type { CliResult } from './cli.js';
import { KERNEL_FIXTURES } from './fixture-host.js';

export const STAND_INS = join(ROOT, 'test', 'stand-ins');
export const STAND_IN_FIXTURES = join(ROOT, 'test', 'fixtures', 'stand-ins');
export type StandInTool = 'kind' | 'docker' | 'kubectl';

export const standInFixture = (name: string): string => readFileSync(join(STAND_IN_FIXTURES, name), 'utf8');

export interface WorldOptions {
  engineRunning?: boolean;
  create?: 'ok' | 'fail' | 'hang';
  kubeProxyReady?: boolean;
  kubeProxyLog?: string;
  /** /proc/net/ip_vs text on every node (default: the fresh-cluster table). */
  ipvsText?: string;
  /** Per-node overrides: { ipvsText?, kubeIpvs0?, proxyMode? }. */
  overrides?: Record<string, Record<string, unknown>>;
  /** Clusters that exist before the test (not created by kube-local-up). */
  clusters?: Record<string, unknown>;
  services?: unknown;
  /** Fields of `docker info --format '{{json .}}'` that differ from a Debian engine on this machine's kernel. */
  engineInfo?: Record<string, unknown>;
  /** The kernel of a VM-backed engine (Docker Desktop, colima, podman machine): see dockerDesktopVm(). */
  engineVm?: EngineVm;
  /** What the stand-in kind says it is (`kind version`); default v0.33.0. */
  kindVersion?: string;
}

export interface EngineVm {
  release: string;
  files: Record<string, string>;
  dirs: Record<string, string[]>;
  modulesAvailable: string[];
}

/** The facts docker info reports for Docker Desktop (OperatingSystem "Docker Desktop", a linuxkit kernel). */
export const DOCKER_DESKTOP_INFO = { KernelVersion: '6.10.14-linuxkit', OperatingSystem: 'Docker Desktop', OSType: 'linux' };

/**
 * Docker Desktop's VM kernel as a privileged container sees it: IPVS built as modules (the recorded Debian
 * module tree stands in for linuxkit's), none of them loaded yet, /proc/config.gz with HZ 1000.
 */
export function dockerDesktopVm(): EngineVm {
  const d = join(KERNEL_FIXTURES, 'debian-6.1.0-56-amd64');
  const read = (file: string) => readFileSync(join(d, file), 'utf8');
  const release = DOCKER_DESKTOP_INFO.KernelVersion;
  const config = read('config.subset').replace(/^CONFIG_HZ=\d+$/m, 'CONFIG_HZ=1000');
  return {
    release,
    files: {
      '/proc/sys/kernel/osrelease': `${release}\n`,
      '/proc/modules': read('proc-modules-before'),
      '/proc/config.gz': config,
      [`/lib/modules/${release}/modules.builtin`]: read('modules.builtin'),
      [`/lib/modules/${release}/modules.dep`]: read('modules.dep.subset'),
    },
    dirs: { '/sys/module': read('sys-module-before').split('\n').filter((l) => l !== '') },
    modulesAvailable: ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack', 'ip_set'],
  };
}

export const FRESH_KUBE_IPVS0 = ['10.96.0.1', '10.96.0.10'];

/** The parts of world.json the tests read or change (see test/stand-ins/world.mjs). */
export interface WorldNode {
  name: string;
  files: Record<string, string>;
  [key: string]: unknown;
}
export interface WorldCluster {
  nodes: WorldNode[];
  pods: Record<string, unknown>;
  services?: unknown;
  [key: string]: unknown;
}
export interface WorldJson {
  clusters: Record<string, WorldCluster>;
  [key: string]: unknown;
}

export interface World {
  readonly dir: string;
  read(): WorldJson;
  write(world: WorldJson): void;
  calls(tool?: StandInTool): { tool: string; argv: string[]; pid: number; stdin?: string }[];
  /** Stand-in processes that are still alive. */
  livePids(): number[];
}

export function makeWorld(options: WorldOptions = {}): World {
  const dir = tempDir('local-up-world-');
  const file = join(dir, 'world.json');
  const world = {
    engine: { running: options.engineRunning ?? true, ...(options.engineInfo === undefined ? {} : { info: options.engineInfo }), ...(options.engineVm === undefined ? {} : { vm: options.engineVm }) },
    kind: { create: options.create ?? 'ok', ...(options.kindVersion === undefined ? {} : { version: options.kindVersion }) },
    nodeTemplate: { ipvsText: options.ipvsText ?? standInFixture('proc-net-ip_vs-fresh.txt'), kubeIpvs0: FRESH_KUBE_IPVS0, hz: 250, overrides: options.overrides ?? {} },
    clusterTemplate: {
      kubeProxyReady: options.kubeProxyReady ?? true,
      kubeProxyLog: options.kubeProxyLog ?? '',
      services: options.services ?? JSON.parse(standInFixture('cluster-fresh.json')),
    },
    clusters: options.clusters ?? {},
  };
  writeFileSync(file, JSON.stringify(world, null, 2));
  return {
    dir,
    read: () => JSON.parse(readFileSync(file, 'utf8')) as WorldJson,
    write: (value) => writeFileSync(file, JSON.stringify(value, null, 2)),
    calls(tool) {
      const path = join(dir, 'calls.jsonl');
      if (!existsSync(path)) return [];
      const all = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
      return tool === undefined ? all : all.filter((c) => c.tool === tool);
    },
    livePids() {
      const path = join(dir, 'pids.txt');
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map(Number).filter(isAlive);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A folder holding only the chosen stand-ins (symlinks), to put first on PATH. */
export function standInBin(tools: readonly StandInTool[] = ['kind', 'docker', 'kubectl']): string {
  const dir = tempDir('local-up-bin-');
  for (const tool of tools) symlinkSync(join(STAND_INS, tool), join(dir, tool));
  return dir;
}

/** A fresh HOST_ROOT for one recorded kernel (test/fixtures/kernel/<name>), with its osrelease in place. */
function recordedKernelRoot(name: string): { root: string; release: string; read: (file: string) => string; put: (path: string, text: string) => void } {
  const root = tempDir('local-up-hostroot-');
  const d = join(KERNEL_FIXTURES, name);
  const read = (file: string) => readFileSync(join(d, file), 'utf8');
  const release = read('osrelease').trim();
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  put('proc/sys/kernel/osrelease', `${release}\n`);
  return { root, release, read, put };
}

/** A root with the Debian 6.1 kernel's files as recorded in the lab after the IPVS modules were loaded. */
export function ipvsKernelRoot(): string {
  const { root, release, read, put } = recordedKernelRoot('debian-6.1.0-56-amd64');
  put('proc/modules', read('proc-modules-after'));
  put(`lib/modules/${release}/modules.builtin`, read('modules.builtin'));
  put(`lib/modules/${release}/modules.dep`, read('modules.dep.subset'));
  put(`boot/config-${release}`, read('config.subset'));
  for (const name of read('sys-module-after').split('\n').filter((l) => l !== '')) mkdirSync(join(root, 'sys', 'module', name), { recursive: true });
  return root;
}

/** A root with a kernel built without IPVS (a recorded Firecracker guest kernel: `# CONFIG_IP_VS is not set`). */
export function noIpvsKernelRoot(): string {
  const { root, release, read, put } = recordedKernelRoot('dev-6.18.44-fc');
  put(`boot/config-${release}`, read('config.subset'));
  for (const name of read('sys-module').split('\n').filter((l) => l !== '')) mkdirSync(join(root, 'sys', 'module', name), { recursive: true });
  return root;
}

export interface StandInEnvOptions {
  tools?: readonly StandInTool[];
  hostRoot?: string;
  extra?: Record<string, string | undefined>;
}

/** A minimal environment: the stand-ins first on PATH, node, a private HOME/STATE_DIR. */
export function standInEnv(world: World, options: StandInEnvOptions = {}): Record<string, string | undefined> {
  const home = tempDir('local-up-home-');
  return {
    PATH: [standInBin(options.tools), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    STANDIN_STATE: world.dir,
    STATE_DIR: join(home, 'state'),
    HOST_ROOT: options.hostRoot ?? ipvsKernelRoot(),
    KIND_AUTO_INSTALL: 'false',
    READY_TIMEOUT: '5',
    ...options.extra,
  };
}

/** runBin with the stand-ins' environment; `during` may act on the process while it runs (e.g. send SIGINT). */
export function runCli(argv: readonly string[], env: Record<string, string | undefined>, during?: (child: ChildProcess) => void, timeoutMs = 90_000): Promise<CliResult> {
  const running = startBin(argv, { env, timeoutMs });
  during?.(running.child);
  return running.result;
}

/** Polls until `condition` holds (for waiting on a stand-in's marker file). */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ipAddrLine = (index: string, device: string, address: string): string =>
  `${index}: ${device}    ${address} scope global ${device}\\       valid_lft forever preferred_lft forever`;

export interface ForeignWorldOptions {
  /** /proc/net/ip_vs of the node (default: test/fixtures/assert/proc-net-ip_vs-ok.txt). */
  readonly ipvsText?: string;
  /** Addresses on kube-ipvs0 (none: no kube-ipvs0 at all). */
  readonly kubeIpvs0: readonly string[];
  /** More `ip -o addr` lines after eth0's IPv4 address. */
  readonly moreAddresses?: readonly string[];
  /** More files of the node. */
  readonly files?: Readonly<Record<string, string>>;
  readonly execHang?: boolean;
}

/**
 * A cluster "ext" made elsewhere (no state of ours, reached through --kubeconfig): one node, kind-worker,
 * InternalIP 172.18.0.3 on eth0, kube-proxy in IPVS mode, HZ 250, the Services of test/fixtures/assert.
 */
export function foreignWorld(options: ForeignWorldOptions): { world: World; kubeconfig: string } {
  const assertFixture = (name: string): string => readFileSync(join(ROOT, 'test', 'fixtures', 'assert', name), 'utf8');
  const node = {
    name: 'kind-worker',
    role: 'worker',
    ip: '172.18.0.3',
    ipAddr: [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      ...options.kubeIpvs0.map((a) => ipAddrLine('3', 'kube-ipvs0', `inet ${a}/32`)),
      '9: eth0@if10    inet 172.18.0.3/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      ...(options.moreAddresses ?? []),
    ].join('\n'),
    files: { '/proc/net/ip_vs': options.ipvsText ?? assertFixture('proc-net-ip_vs-ok.txt'), '/proc/config.gz': 'CONFIG_HZ=250\n', ...options.files },
    proxyMode: 'ipvs',
  };
  const world = makeWorld({ clusters: { ext: { nodes: [node], kubeProxyMode: 'ipvs', kubeProxyReady: true, services: JSON.parse(assertFixture('cluster.json')), pods: {} } } });
  if (options.execHang === true) world.write({ ...world.read(), kubectl: { execHang: true } });
  const kubeconfig = join(tempDir(), 'ext.kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\ncurrent-context: kind-ext\n');
  return { world, kubeconfig };
}
