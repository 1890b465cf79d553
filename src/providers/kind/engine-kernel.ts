// Where kind's nodes really run: the container engine's kernel. Docker Desktop (macOS, Windows and
// Linux), podman machine, colima, Lima/finch and a remote DOCKER_HOST run the node containers in a VM
// or on another machine, so this machine's kernel says nothing about IPVS there. The engine's `info`
// names its kernel; when it is not this machine's, that kernel is read (and modules are loaded) through
// a short-lived privileged container of the pinned node image.
import type { Host, ReadOptions } from '../../exec/host.js';
import type { RunOptions, RunResult, Runner } from '../../exec/runner.js';
import { describeFailure, tail } from '../../exec/runner.js';
import { unavailableError } from '../../errors.js';

/** What `<engine> info` says about where containers run. */
export interface EngineInfo {
  /** The kernel release containers run on ("6.10.14-linuxkit"). */
  readonly kernelVersion: string;
  /** The engine host's OS ("Docker Desktop", "Ubuntu 24.04.1 LTS", "fedora"). */
  readonly operatingSystem: string;
  /** "linux" (or "windows" for Windows containers). */
  readonly osType: string;
  /** The engine runs without root (rootless Docker, rootless Podman). */
  readonly rootless: boolean;
}

/** The arguments that make each engine print its info as JSON, as kind itself asks (kind v0.33.0 providers/{docker,nerdctl,podman}/provider.go). */
export function engineInfoArgs(engine: string): string[] {
  return engine === 'podman' ? ['info', '--format', 'json'] : ['info', '--format', '{{json .}}'];
}

const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Reads `<engine> info` JSON. docker and nerdctl/finch (`info --format '{{json .}}'`, moby
 * api/types/system/info.go): KernelVersion, OperatingSystem, OSType, and SecurityOptions entries like
 * "name=seccomp,profile=builtin" where "name=rootless" means rootless (kind reads it the same way:
 * providers/docker/provider.go info()). podman (`info --format json`, podman
 * libpod/define/info.go): host.kernel, host.os, host.distribution.distribution, host.security.rootless.
 * Returns null for output that is not such JSON.
 */
export function parseEngineInfo(engine: string, stdout: string): EngineInfo | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return null;
  }
  const info = record(parsed);
  if (engine === 'podman') {
    const host = record(info.host);
    if (Object.keys(host).length === 0) return null;
    const distribution = record(host.distribution);
    return {
      kernelVersion: text(host.kernel),
      operatingSystem: [text(distribution.distribution), text(distribution.version)].filter((s) => s !== '').join(' ') || text(host.os),
      osType: text(host.os) || 'linux',
      rootless: record(host.security).rootless === true,
    };
  }
  if (!('KernelVersion' in info) && !('OperatingSystem' in info)) return null;
  const options = Array.isArray(info.SecurityOptions) ? info.SecurityOptions.map(text) : [];
  return {
    kernelVersion: text(info.KernelVersion),
    operatingSystem: text(info.OperatingSystem),
    osType: text(info.OSType) || 'linux',
    rootless: options.some((option) => option.split(',').includes('name=rootless')),
  };
}

export interface Placement {
  /** The engine's containers run on this machine's kernel. */
  readonly shared: boolean;
  /** The evidence, in words. */
  readonly why: string;
  /** For messages: "the docker engine's VM (Docker Desktop)". */
  readonly where: string;
}

export interface ThisMachine {
  /** process.platform: "linux", "darwin", "win32". */
  readonly os: string;
  /** This machine's kernel release: /proc/sys/kernel/osrelease (HOST_ROOT), else os.release(); null when unreadable on Linux. */
  readonly release: string | null;
}

/** A DOCKER_HOST (docker, nerdctl) or CONTAINER_HOST (podman) that points at another machine. */
export function remoteEngineHost(engine: string, env: Readonly<Record<string, string | undefined>>): string | null {
  const name = engine === 'podman' ? 'CONTAINER_HOST' : 'DOCKER_HOST';
  const value = env[name] ?? '';
  return /^(tcp|ssh|https?):\/\//.test(value) ? `${name}=${value}` : null;
}

/**
 * Does the engine run its containers on this machine's kernel? Pure: decided from the engine's info, this
 * machine's platform and kernel release, and DOCKER_HOST/CONTAINER_HOST.
 */
export function placeEngineKernel(engine: string, info: EngineInfo, here: ThisMachine, remote: string | null): Placement {
  const reported = `${engine} info reports Linux ${info.kernelVersion || '(no kernel)'} (${info.operatingSystem || 'unknown OS'})`;
  if (here.os !== 'linux') {
    return { shared: false, why: `this machine runs ${here.os}${here.release === null ? '' : ` ${here.release}`}, not Linux: the ${engine} engine runs Linux containers in its VM; ${reported}`, where: `the ${engine} engine's VM (${info.operatingSystem || engine})` };
  }
  if (/docker desktop/i.test(info.operatingSystem)) {
    return { shared: false, why: `${reported}: Docker Desktop runs its engine in a VM, also on Linux`, where: `the ${engine} engine's VM (Docker Desktop)` };
  }
  if (remote !== null) {
    return { shared: false, why: `${remote} is a remote engine; ${reported}`, where: `the remote ${engine} engine (${remote})` };
  }
  if (here.release === null) {
    return { shared: true, why: `${reported}; this machine's kernel release cannot be read, so kind's nodes are taken to share it`, where: 'this machine' };
  }
  if (info.kernelVersion !== '' && info.kernelVersion !== here.release) {
    return { shared: false, why: `${reported}, but this machine runs Linux ${here.release}: the engine runs in a VM or elsewhere (podman machine, colima, Lima)`, where: `the ${engine} engine's VM (${info.operatingSystem || 'Linux'})` };
  }
  return { shared: true, why: `${reported}, the same kernel as this machine's`, where: 'this machine' };
}

/** docker run's options for the probe container: root on the engine's kernel, its host network, its module tree. */
const PROBE_RUN_OPTIONS = ['--rm', '--privileged', '--net=host', '-v', '/lib/modules:/lib/modules:ro'] as const;
const PROBE_TIMEOUT_MS = 120_000;
const IMAGE_INSPECT_TIMEOUT_MS = 30_000;
/** The node image is about 1 GB unpacked; a slow laptop link gets twenty minutes, as kind's own pull would. */
const IMAGE_PULL_TIMEOUT_MS = 20 * 60_000;

/** The argv (after the engine) that runs `file args...` in a short-lived privileged container of `image`. */
export function probeRunArgs(image: string, file: string, args: readonly string[]): string[] {
  return ['run', ...PROBE_RUN_OPTIONS, '--entrypoint', file, image, ...args];
}

/**
 * The engine's kernel as a Host: every command runs in a fresh `<engine> run --rm --privileged --net=host
 * -v /lib/modules:/lib/modules:ro --entrypoint CMD IMAGE ARGS...` of the pinned kind node image. That image
 * has kmod (modprobe), cat, zcat and ls (kind v0.33.0 images/base/Dockerfile installs kmod), and a
 * privileged container sees its kernel's /proc, /sys and, through the mount, its module tree. The image's
 * own entrypoint (which prepares the container to boot systemd as a node) is replaced by the command.
 */
export class EngineKernelHost implements Host {
  readonly description: string;

  constructor(
    private readonly runner: Runner,
    private readonly engine: string,
    private readonly enginePath: string,
    readonly image: string,
    where: string,
  ) {
    this.description = where;
  }

  /** The exact command, for doctor's "how". */
  describe(): string {
    return `${this.engine} ${probeRunArgs(this.image, '<command>', []).join(' ')}`;
  }

  /** Pulls the node image when the engine does not have it yet (kind create would pull it too). */
  async ensureImage(progress: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const inspected = await this.runner.run(this.enginePath, ['image', 'inspect', this.image], { timeoutMs: IMAGE_INSPECT_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) });
    if (inspected.exitCode === 0) return;
    progress(`pulling the node image ${this.image} to read the engine's kernel (kind create uses the same image)`);
    const pulled = await this.runner.run(this.enginePath, ['pull', this.image], { timeoutMs: IMAGE_PULL_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) });
    if (pulled.exitCode !== 0) {
      throw unavailableError(`cannot pull the node image ${this.image} to read the engine's kernel: ${describeFailure(pulled, IMAGE_PULL_TIMEOUT_MS)}`, {
        details: tail(pulled.stderr || pulled.stdout, 5),
        hint: `check the engine can reach the registry (\`${this.engine} pull ${this.image}\`), or set KIND_NODE_IMAGE to an image it has`,
      });
    }
  }

  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    return this.runner.run(this.enginePath, probeRunArgs(this.image, file, args), { ...options, timeoutMs: Math.max(options.timeoutMs, PROBE_TIMEOUT_MS) });
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | null> {
    const result = await this.run(options.gunzip === true ? 'zcat' : 'cat', ['--', path], { timeoutMs: PROBE_TIMEOUT_MS });
    return result.exitCode === 0 ? result.stdout : null;
  }

  async listDir(path: string): Promise<string[] | null> {
    const result = await this.run('ls', ['-1A', '--', path], { timeoutMs: PROBE_TIMEOUT_MS });
    if (result.exitCode !== 0) return null;
    return result.stdout.split('\n').filter((name) => name !== '');
  }
}
