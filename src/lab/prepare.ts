// `lab prepare`: fetch Debian's current kernel package without installing it,
// unpack it, index its modules and build the lab's initramfs, all inside the
// cache folder. Atomic (a build folder renamed into place) and safe when two
// run at once (a lock, and the rename decides the winner).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { basename, join } from 'node:path';
import { ExitCode, LocalUpError, unavailableError } from '../errors.js';
import type { RunResult, Runner } from '../exec/runner.js';
import { tail } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import type { PreparedKernel } from './cache.js';
import { BUILD_PREFIX, MANIFEST_FILE, MANIFEST_FORMAT, kernelDirFor, labCachePaths, readKernelManifest, writeFileAtomic } from './cache.js';
import { INITRAMFS_MODULES, buildBaseInitramfs, isStaticElf } from './initramfs.js';
import type { InitramfsModule } from './initramfs.js';
import { KERNEL_META_PACKAGE, findDownloadedDeb, kernelReleaseOf, parseKernelDependency, parseShowDepends } from './kernel-package.js';
import { isProcessAlive, withLock } from './lock.js';
import { QEMU_BINARY } from './qemu.js';

const APT_CACHE_TIMEOUT_MS = 60_000;
const APT_DOWNLOAD_TIMEOUT_MS = 15 * 60_000;
const DPKG_EXTRACT_TIMEOUT_MS = 10 * 60_000;
const DEPMOD_TIMEOUT_MS = 5 * 60_000;
const MODPROBE_TIMEOUT_MS = 60_000;
const XZ_TIMEOUT_MS = 60_000;
const VERSION_TIMEOUT_MS = 30_000;
/** How long a second prepare waits for the first one to finish. */
const LOCK_WAIT_MS = 30 * 60_000;
/** Free space a prepare needs: the .deb (70 MB) plus the unpacked modules (400 MB) plus margin. */
export const PREPARE_SPACE_BYTES = 600 * 1024 * 1024;

/** Where busybox-static installs its binary (Debian), in the order we look. */
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

export interface PrepareOptions {
  readonly cacheDir: string;
  /** Rebuild even when the current kernel release is already prepared. */
  readonly force?: boolean;
}

export interface PrepareDeps {
  readonly runner: Runner;
  /** One line of progress for stderr. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
  /** process.arch (tests pass another). */
  readonly arch?: string;
  /** Whether we run as root (apt-get's sandbox user warning). */
  readonly isRoot?: boolean;
  readonly busyboxCandidates?: readonly string[];
  /** Where to look for depmod and modprobe (a normal user's PATH lacks /usr/sbin); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The absolute path of a tool (sbin included), or its bare name so the Runner reports it missing. */
const toolPath = (name: string, deps: PrepareDeps): string => findExecutable(name, deps.env ?? process.env) ?? name;

export interface PrepareResult {
  readonly kernel: PreparedKernel;
  /** True when an earlier prepare's result was reused. */
  readonly reused: boolean;
  readonly qemuVersion: string;
  readonly durationMs: number;
}

const interrupted = () => new LocalUpError(ExitCode.interrupted, 'interrupted while preparing the lab kernel');

function checkRun(result: RunResult, deps: PrepareDeps, what: string): void {
  if (result.aborted || deps.signal?.aborted === true) throw interrupted();
  if (result.exitCode === 0) return;
  if (/No space left on device/i.test(result.stderr)) throw noSpaceError(what, result.stderr);
  throw new LocalUpError(ExitCode.failed, `${what} failed: ${result.command} ${result.timedOut ? 'timed out' : `exited with code ${result.exitCode ?? result.signal}`}`, {
    details: tail(result.stderr || result.stdout),
  });
}

function noSpaceError(what: string, details: string): LocalUpError {
  return unavailableError(`${what}: no space left on the disk of the lab cache`, {
    details: tail(details, 5),
    hint: `lab prepare needs about ${Math.round(PREPARE_SPACE_BYTES / 1024 / 1024)} MB free in LAB_CACHE_DIR (the kernel package plus ~400 MB of modules); free space or point LAB_CACHE_DIR elsewhere`,
  });
}

const isNoSpace = (error: unknown): boolean => (error as NodeJS.ErrnoException | null)?.code === 'ENOSPC';

/** The qemu version line, or a LocalUpError when qemu is missing. */
export async function checkQemu(runner: Runner, signal?: AbortSignal): Promise<string> {
  const result = await runner.run(QEMU_BINARY, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) });
  if (result.notFound) {
    throw unavailableError(`${QEMU_BINARY} not found: the lab boots its VM with qemu`, { hint: 'install it: apt-get install --no-install-recommends qemu-system-x86' });
  }
  if (result.exitCode !== 0) throw unavailableError(`${result.command} failed`, { details: tail(result.stderr) });
  return result.stdout.split('\n')[0]?.trim() ?? '';
}

/** The lab boots x86_64 Debian kernels with an x86_64 qemu; other hosts are refused early. */
export function checkHostArch(arch: string): void {
  if (arch !== 'x64') {
    throw unavailableError(`the lab needs an x86_64 machine; this one is ${arch}`, {
      hint: 'the lab boots Debian x86_64 kernels; run lab tests on an x86_64 Linux machine or CI runner',
    });
  }
}

async function resolveKernelPackage(deps: PrepareDeps): Promise<string> {
  const result = await deps.runner.run('apt-cache', ['depends', KERNEL_META_PACKAGE], { timeoutMs: APT_CACHE_TIMEOUT_MS, ...signalOf(deps) });
  if (result.notFound) {
    throw unavailableError('apt-cache not found: lab prepare fetches Debian\'s kernel package with apt, so it needs a Debian-like machine', {
      hint: 'run lab prepare on Debian (or a Debian container/CI image) and copy LAB_CACHE_DIR here, or run the lab on a Debian machine',
    });
  }
  if (result.aborted) throw interrupted();
  const name = result.exitCode === 0 ? parseKernelDependency(result.stdout) : null;
  if (name === null && result.exitCode === 0) {
    // apt answered, and we could not read the answer: our bug (or a new apt format), not the machine's.
    throw new LocalUpError(ExitCode.internal, `could not read the kernel package out of \`apt-cache depends ${KERNEL_META_PACKAGE}\` (a bug in kube-local-up; please report it with this output)`, {
      details: tail(result.stdout, 15),
    });
  }
  if (name === null) {
    throw unavailableError(`apt-cache does not know ${KERNEL_META_PACKAGE}, Debian's kernel package`, {
      details: tail(result.stderr || result.stdout, 5),
      hint: 'run `apt-get update` first (as root); on Ubuntu and other non-Debian systems this package does not exist: prepare on Debian and copy LAB_CACHE_DIR',
    });
  }
  return name;
}

const signalOf = (deps: PrepareDeps): { signal?: AbortSignal } => (deps.signal === undefined ? {} : { signal: deps.signal });

async function findBusybox(candidates: readonly string[]): Promise<Buffer> {
  for (const path of candidates) {
    const bytes = await readFile(path).catch(() => null);
    if (bytes === null) continue;
    if (isStaticElf(bytes)) return bytes;
    throw unavailableError(`${path} is not statically linked: the lab initramfs has no C library`, { hint: 'install the static build: apt-get install busybox-static' });
  }
  throw unavailableError('busybox not found: the lab initramfs uses a static busybox as its shell', { hint: 'apt-get install busybox-static' });
}

async function requireTool(runner: Runner, file: string, pkg: string, deps: PrepareDeps): Promise<void> {
  const result = await runner.run(file, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS, ...signalOf(deps) });
  if (result.notFound) throw unavailableError(`${file} not found: lab prepare needs it`, { hint: `apt-get install ${pkg}` });
}

async function checkFreeSpace(dir: string): Promise<void> {
  const stats = await statfs(dir).catch(() => null);
  if (stats === null) return;
  const free = stats.bavail * stats.bsize;
  if (free < PREPARE_SPACE_BYTES) {
    throw unavailableError(`only ${Math.round(free / 1024 / 1024)} MB free in ${dir}`, {
      hint: `lab prepare needs about ${Math.round(PREPARE_SPACE_BYTES / 1024 / 1024)} MB free; free space or point LAB_CACHE_DIR elsewhere`,
    });
  }
}

/** Total size of the files under a folder. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Removes build folders left by prepares that were killed (their pid is gone). */
async function sweepStaleBuilds(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    const pid = Number(/^build-(\d+)-/.exec(name)?.[1]);
    if (name.startsWith(BUILD_PREFIX) && !isProcessAlive(pid)) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
}

/** "linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb" → "6.1.192-2". */
const debVersion = (file: string): string => decodeURIComponent(file.split('_')[1] ?? '');

async function readModule(path: string, deps: PrepareDeps): Promise<InitramfsModule> {
  if (path.endsWith('.ko')) return { name: basename(path), data: await readFile(path) };
  if (path.endsWith('.ko.xz')) {
    // NOTE: busybox insmod cannot read compressed modules; newer Debian kernels ship them xz-compressed.
    const result = await deps.runner.run('xz', ['-d', '-k', '-f', path], { timeoutMs: XZ_TIMEOUT_MS, ...signalOf(deps) });
    if (result.notFound) throw unavailableError('xz not found: this kernel ships compressed modules', { hint: 'apt-get install xz-utils' });
    checkRun(result, deps, 'decompressing a module');
    const plain = path.slice(0, -3);
    return { name: basename(plain), data: await readFile(plain) };
  }
  throw unavailableError(`unsupported module file for the initramfs: ${path}`, { hint: 'the lab supports .ko and .ko.xz modules' });
}

async function buildKernel(buildDir: string, packageName: string, deps: PrepareDeps): Promise<PreparedKernel> {
  const release = kernelReleaseOf(packageName);
  const aptOptions = deps.isRoot === true ? ['-o', 'APT::Sandbox::User=root'] : [];
  deps.log(`downloading ${packageName} with apt-get`);
  const download = await deps.runner.run('apt-get', [...aptOptions, 'download', packageName], { cwd: buildDir, timeoutMs: APT_DOWNLOAD_TIMEOUT_MS, ...signalOf(deps) });
  if (download.notFound) throw unavailableError('apt-get not found: lab prepare needs a Debian-like machine', { hint: 'run lab prepare on Debian and copy LAB_CACHE_DIR here' });
  if (download.exitCode !== 0 && !download.aborted && !/No space left/i.test(download.stderr)) {
    throw unavailableError(`could not download ${packageName} from the package mirror`, {
      details: tail(download.stderr || download.stdout, 10),
      hint: 'check the network and the apt sources (`apt-get update`); the lab needs Debian\'s package mirror once, then uses its cache',
    });
  }
  checkRun(download, deps, `downloading ${packageName}`);
  const deb = findDownloadedDeb(await readdir(buildDir), packageName);
  if (deb === null) throw new LocalUpError(ExitCode.failed, `apt-get download left no ${packageName} package in ${buildDir}`);

  deps.log(`unpacking ${deb} (about 400 MB of modules)`);
  const root = join(buildDir, 'unpacked');
  const extract = await deps.runner.run('dpkg', ['-x', join(buildDir, deb), root], { timeoutMs: DPKG_EXTRACT_TIMEOUT_MS, ...signalOf(deps) });
  if (extract.notFound) throw unavailableError('dpkg not found: lab prepare needs a Debian-like machine', { hint: 'run lab prepare on Debian and copy LAB_CACHE_DIR here' });
  checkRun(extract, deps, `unpacking ${deb}`);
  await rm(join(buildDir, deb), { force: true });

  const moduleRoots = [join(root, 'lib', 'modules', release), join(root, 'usr', 'lib', 'modules', release)];
  const moduleRoot = (await Promise.all(moduleRoots.map((dir) => stat(dir).then(() => dir, () => null)))).find((dir) => dir !== null);
  if (moduleRoot === undefined) throw new LocalUpError(ExitCode.failed, `${deb} has no lib/modules/${release}`);
  await mkdir(join(buildDir, 'lib', 'modules'), { recursive: true });
  await rename(moduleRoot, join(buildDir, 'lib', 'modules', release));
  await rename(join(root, 'boot', `vmlinuz-${release}`), join(buildDir, 'vmlinuz'));
  await rename(join(root, 'boot', `config-${release}`), join(buildDir, 'config')).catch(() => writeFile(join(buildDir, 'config'), ''));
  await rm(root, { recursive: true, force: true });

  deps.log(`indexing modules (depmod) and building the initramfs`);
  const depmod = await deps.runner.run(toolPath('depmod', deps), ['-b', buildDir, release], { timeoutMs: DEPMOD_TIMEOUT_MS, ...signalOf(deps) });
  if (depmod.notFound) throw unavailableError('depmod not found', { hint: 'apt-get install kmod' });
  checkRun(depmod, deps, 'depmod');
  const order = await deps.runner.run(toolPath('modprobe', deps), ['-d', buildDir, '-S', release, '--show-depends', '-a', ...INITRAMFS_MODULES], { timeoutMs: MODPROBE_TIMEOUT_MS, ...signalOf(deps) });
  checkRun(order, deps, 'modprobe --show-depends');
  const paths = parseShowDepends(order.stdout);
  if (paths.length === 0) throw new LocalUpError(ExitCode.internal, `could not read module files for ${INITRAMFS_MODULES.join(' ')} out of modprobe --show-depends (a bug in kube-local-up)`, { details: tail(order.stdout + order.stderr) });
  const modules: InitramfsModule[] = [];
  for (const path of paths) modules.push(await readModule(path, deps));
  const busybox = await findBusybox(deps.busyboxCandidates ?? BUSYBOX_CANDIDATES);
  const kernelConfig = await readFile(join(buildDir, 'config'));
  await writeFile(join(buildDir, 'initrd.gz'), buildBaseInitramfs({ busybox, modules, ...(kernelConfig.length > 0 ? { kernelConfig } : {}) }));

  const manifest = {
    format: MANIFEST_FORMAT,
    release,
    packageName,
    packageVersion: debVersion(deb),
    initramfsModules: modules.map((m) => m.name),
    bytes: {
      kernel: (await stat(join(buildDir, 'vmlinuz'))).size,
      initrd: (await stat(join(buildDir, 'initrd.gz'))).size,
      modules: await folderBytes(join(buildDir, 'lib', 'modules')),
    },
    preparedAt: new Date().toISOString(),
  };
  await writeFile(join(buildDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  const built = await readKernelManifest(buildDir);
  if (built === null) throw new LocalUpError(ExitCode.internal, `the prepared kernel in ${buildDir} is incomplete`);
  return built;
}

async function pointCurrentAt(cacheDir: string, release: string): Promise<void> {
  await writeFileAtomic(labCachePaths(cacheDir).currentFile, `${JSON.stringify({ release })}\n`);
}

/** Prepares (or reuses) the lab kernel for the kernel release Debian currently ships. */
export async function prepareLab(options: PrepareOptions, deps: PrepareDeps): Promise<PrepareResult> {
  const started = Date.now();
  checkHostArch(deps.arch ?? hostArch());
  const qemuVersion = await checkQemu(deps.runner, deps.signal);
  const packageName = await resolveKernelPackage(deps);
  const release = kernelReleaseOf(packageName);
  const finalDir = kernelDirFor(options.cacheDir, release);
  const done = (kernel: PreparedKernel, reused: boolean): PrepareResult => ({ kernel, reused, qemuVersion, durationMs: Date.now() - started });

  try {
    await mkdir(labCachePaths(options.cacheDir).kernelsDir, { recursive: true });
  } catch (error) {
    if (isNoSpace(error)) throw noSpaceError('creating the lab cache', String(error));
    throw unavailableError(`cannot create the lab cache folder ${options.cacheDir}: ${(error as Error).message}`, { hint: 'set LAB_CACHE_DIR to a writable folder' });
  }
  if (options.force !== true) {
    const existing = await readKernelManifest(finalDir);
    if (existing !== null) {
      await pointCurrentAt(options.cacheDir, release);
      return done(existing, true);
    }
  }

  return withLock(
    labCachePaths(options.cacheDir).lockFile,
    { timeoutMs: LOCK_WAIT_MS, ...signalOf(deps), onWait: () => deps.log('another lab prepare is running; waiting for it') },
    async () => {
      // The prepare we waited for may have produced exactly what we need.
      const existing = options.force === true ? null : await readKernelManifest(finalDir);
      if (existing !== null) {
        await pointCurrentAt(options.cacheDir, release);
        return done(existing, true);
      }
      await sweepStaleBuilds(options.cacheDir);
      await checkFreeSpace(options.cacheDir);
      for (const [tool, pkg] of [['dpkg', 'dpkg'], ['depmod', 'kmod'], ['modprobe', 'kmod']] as const) await requireTool(deps.runner, toolPath(tool, deps), pkg, deps);
      const buildDir = join(options.cacheDir, `${BUILD_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
      const retired = `${buildDir}-old`;
      try {
        await mkdir(buildDir);
        await buildKernel(buildDir, packageName, deps);
        // A forced rebuild, or a folder from an older cache format or an interrupted copy, makes way.
        if (options.force === true || (await readKernelManifest(finalDir)) === null) await rename(finalDir, retired).catch(() => undefined);
        try {
          await rename(buildDir, finalDir);
        } catch (error) {
          // Another prepare (outside our lock, e.g. an older cache format) won the rename; use its result.
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        }
        const kernel = await readKernelManifest(finalDir);
        if (kernel === null) throw new LocalUpError(ExitCode.internal, `the prepared kernel in ${finalDir} is incomplete`);
        await pointCurrentAt(options.cacheDir, release);
        return done(kernel, false);
      } catch (error) {
        if (isNoSpace(error)) throw noSpaceError('preparing the lab kernel', String(error));
        if (deps.signal?.aborted === true && !(error instanceof LocalUpError)) throw interrupted();
        throw error;
      } finally {
        await rm(buildDir, { recursive: true, force: true });
        await rm(retired, { recursive: true, force: true });
      }
    },
  );
}
