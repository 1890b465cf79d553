// Runs one command inside a throwaway lab VM: the host's / read-only with a
// tmpfs overlay, Debian's kernel with IPVS, the caller's cwd and environment.
// Streams or captures the command's stdout/stderr and returns its exit code.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { release as hostKernelRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, LocalUpError, unavailableError } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { tail } from '../exec/runner.js';
import type { KvmVerdict, LabAccelSetting } from './accel.js';
import { isKvmUsable, planAccel, readKvmVerdict, verdictKey, writeKvmVerdict } from './accel.js';
import type { PreparedKernel } from './cache.js';
import { readCurrentKernel } from './cache.js';
import { EXIT_CODE_FILE, GUEST_IO_DIR, RUN_SCRIPT, renderRunScript } from './guest.js';
import { withInitScript } from './initramfs.js';
import { isProcessAlive } from './lock.js';
import { checkHostArch, checkQemu, prepareLab } from './prepare.js';
import type { LabAccel, LabNetwork } from './qemu.js';
import { planQemuArgs } from './qemu.js';
import type { VmRun } from './vm.js';
import { runQemu } from './vm.js';

/** Prefix of per-run folders under the system temp dir. */
export const RUN_DIR_PREFIX = 'kube-local-up-lab-';
/** Holds the pid of the run that owns the folder, so a later run can remove folders of dead runs. */
const OWNER_FILE = '.owner';
const CONSOLE_TAIL_LINES = 30;

export interface LabMachine {
  readonly cacheDir: string;
  readonly memoryMb: number;
  readonly cpus: number;
  /** The whole run, boot included. */
  readonly timeoutSeconds: number;
  readonly accel: LabAccelSetting;
}

export interface LabRunOptions extends LabMachine {
  /** argv of the command (never a shell string). */
  readonly command: readonly string[];
  /** Working directory inside the VM (the host path; the host's / is the VM's /). */
  readonly cwd: string;
  /** Environment given to the command (PATH gains the sbin dirs). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Files written to the run folder, seen in the VM as /run/lab/<name>. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Keep stdout/stderr in the result. */
  readonly capture?: boolean;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  readonly onConsole?: (text: string) => void;
  /** A prepared kernel; default: the cache's current one (prepared on demand unless `prepare` is false). */
  readonly kernel?: PreparedKernel;
  readonly prepare?: boolean;
  /** A network card that reaches only these host programs (qemu.ts); default: none. */
  readonly network?: LabNetwork;
}

export interface LabDeps {
  readonly runner: Runner;
  /** One line of progress or notice for stderr. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface LabRunResult {
  readonly exitCode: number;
  /** Only with `capture`. */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly accel: LabAccel;
  /** Milliseconds from starting qemu to the guest's /init (kernel boot) and to the command's start. */
  readonly initMs: number | null;
  readonly bootMs: number | null;
  readonly durationMs: number;
  readonly kernelRelease: string;
  readonly consoleTail: string;
}

/** The prepared kernel, preparing it first when allowed. */
export async function ensureLabKernel(cacheDir: string, allowPrepare: boolean, deps: LabDeps): Promise<PreparedKernel> {
  const current = await readCurrentKernel(cacheDir);
  if (current !== null) return current;
  if (!allowPrepare) {
    throw unavailableError(`the lab kernel is not prepared in ${cacheDir}`, { hint: 'run `local-up lab prepare` (or drop --no-prepare)' });
  }
  deps.log('the lab kernel is not prepared yet: preparing it first (once; about 70 MB download)');
  const prepared = await prepareLab({ cacheDir }, { runner: deps.runner, log: deps.log, isRoot: process.getuid?.() === 0, ...(deps.signal === undefined ? {} : { signal: deps.signal }) });
  return prepared.kernel;
}

/** Removes run folders whose owner process is gone (a run killed with SIGKILL cannot clean up). */
async function sweepStaleRunDirs(base: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(base, name);
    const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (owner > 0 && !isProcessAlive(owner)) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** How qemu ended, for messages. */
const qemuEnd = (run: VmRun): string => (run.qemuSignal !== null ? `qemu was killed by ${run.qemuSignal}` : `qemu exited with code ${run.qemuExitCode ?? 'none'}`);

const consoleTailOf = (run: VmRun): string => tail(run.consoleTail.replaceAll('\r', ''), CONSOLE_TAIL_LINES);

function collector(enabled: boolean) {
  const chunks: Buffer[] = [];
  return {
    push: (chunk: Buffer) => void (enabled && chunks.push(chunk)),
    text: () => (enabled ? Buffer.concat(chunks).toString('utf8') : undefined),
  };
}

/** Boots a lab VM, runs the command inside and returns its exit code. Lab failures throw LocalUpError. */
export async function runInLab(options: LabRunOptions, deps: LabDeps): Promise<LabRunResult> {
  const started = Date.now();
  if (options.command.length === 0) throw new LocalUpError(ExitCode.usage, 'lab: no command to run');
  checkHostArch(process.arch);
  const qemuVersion = await checkQemu(deps.runner, deps.signal);
  const kernel = options.kernel ?? (await ensureLabKernel(options.cacheDir, options.prepare !== false, deps));
  const key = verdictKey(hostKernelRelease(), qemuVersion);
  const verdict = options.accel === 'auto' ? await readKvmVerdict(options.cacheDir, key) : null;
  const plan = planAccel(options.accel, { kvmUsable: isKvmUsable(), verdict });

  const base = tmpdir();
  await sweepStaleRunDirs(base);
  // The run folder holds the VM's initramfs and io/, the folder shared into the VM as /run/lab.
  const runDir = await mkdtemp(join(base, RUN_DIR_PREFIX));
  const ioDir = join(runDir, 'io');
  const initrd = join(runDir, 'initrd');
  const stdout = collector(options.capture === true);
  const stderr = collector(options.capture === true);
  try {
    await writeFile(join(runDir, OWNER_FILE), `${process.pid}\n`);
    await mkdir(ioDir);
    await writeFile(initrd, withInitScript(await readFile(kernel.initrd), kernel.initramfsModules));
    await writeFile(join(ioDir, RUN_SCRIPT), renderRunScript({ command: options.command, cwd: options.cwd, env: options.env }));
    for (const [name, content] of Object.entries(options.files ?? {})) {
      if (name.includes('/') || name.startsWith('.') || name === RUN_SCRIPT || name === EXIT_CODE_FILE) {
        throw new LocalUpError(ExitCode.usage, `lab: bad file name for ${GUEST_IO_DIR}: ${name}`);
      }
      await writeFile(join(ioDir, name), content);
    }
    const deadline = started + options.timeoutSeconds * 1000;
    const boot = (accel: LabAccel, bootDeadlineMs: number | undefined) =>
      runQemu(
        planQemuArgs({ kernel: kernel.kernel, initrd, modulesDir: kernel.modulesDir, ioDir, memoryMb: options.memoryMb, cpus: options.cpus, accel, ...(options.network === undefined ? {} : { network: options.network }) }),
        {
          timeoutMs: Math.max(1, deadline - Date.now()),
          ...(bootDeadlineMs === undefined ? {} : { bootDeadlineMs }),
          ...(deps.signal === undefined ? {} : { signal: deps.signal }),
          onStdout: (chunk) => {
            stdout.push(chunk);
            options.onStdout?.(chunk);
          },
          onStderr: (chunk) => {
            stderr.push(chunk);
            options.onStderr?.(chunk);
          },
          ...(options.onConsole === undefined ? {} : { onConsole: options.onConsole }),
        },
      );

    let accel = plan.accel;
    let run = await boot(accel, plan.bootDeadlineMs);
    const remember = (verdict: KvmVerdict) =>
      options.accel === 'auto'
        ? writeKvmVerdict(options.cacheDir, key, verdict, { hostKernel: hostKernelRelease(), qemu: qemuVersion }).catch(() => undefined)
        : Promise.resolve();
    // The guest reached /init under KVM: KVM works. It never did (qemu died, or the boot deadline passed): try TCG.
    const kvmFailed = accel === 'kvm' && run.initMs === null && (run.outcome === 'boot-deadline' || run.outcome === 'exited');
    if (accel === 'kvm' && run.initMs !== null) await remember('works');
    if (kvmFailed && plan.fallback) {
      const why = run.outcome === 'boot-deadline' ? `no boot within ${Math.round((plan.bootDeadlineMs ?? 0) / 1000)}s` : tail(run.qemuStderr, 1) || qemuEnd(run);
      deps.log(`notice: KVM does not work on this machine (${why}); using software emulation (TCG) from now on`);
      accel = 'tcg';
      run = await boot(accel, undefined);
      // Only when TCG boots the same kernel is KVM itself to blame.
      if (run.initMs !== null) await remember('broken');
    } else if (kvmFailed) {
      throw unavailableError(`LAB_ACCEL=kvm but the VM never started under KVM (${run.outcome === 'boot-deadline' ? 'no boot within the deadline' : qemuEnd(run)})`, {
        details: [run.qemuStderr.trim(), consoleTailOf(run)].filter((t) => t !== '').join('\n'),
        hint: 'use LAB_ACCEL=tcg or auto',
      });
    }
    return await finishRun(run, { ioDir, accel, kernel, started, options, stdout: stdout.text(), stderr: stderr.text() });
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * What a failed run shows: qemu's own stderr, then always a console section. A VM killed early
 * (a short LAB_TIMEOUT on a slow machine) may have printed nothing yet, and that is worth saying.
 */
export function failureDetails(qemuStderr: string, consoleTail: string): string {
  const console = consoleTail.trim() === '' ? 'console: (empty: the VM printed nothing on its console before it was stopped)' : `console:\n${consoleTail}`;
  return [qemuStderr.trim(), console].filter((t) => t !== '').join('\n');
}

async function finishRun(
  run: VmRun,
  context: { ioDir: string; accel: LabAccel; kernel: PreparedKernel; started: number; options: LabRunOptions; stdout: string | undefined; stderr: string | undefined },
): Promise<LabRunResult> {
  const consoleTail = consoleTailOf(run);
  const details = failureDetails(run.qemuStderr, consoleTail);
  switch (run.outcome) {
    case 'aborted':
      throw new LocalUpError(ExitCode.interrupted, 'interrupted: the lab VM was stopped');
    case 'timeout':
      throw new LocalUpError(ExitCode.timeout, `the lab run did not finish within ${context.options.timeoutSeconds}s; the VM was killed`, {
        details,
        hint: 'raise LAB_TIMEOUT (--lab-timeout SECONDS); --console shows the VM console live',
      });
    case 'spawn-failed':
      throw unavailableError(`could not start qemu: ${run.qemuStderr}`, { hint: 'install qemu: apt-get install --no-install-recommends qemu-system-x86' });
    case 'boot-deadline':
      throw unavailableError('the lab VM did not boot in time', { details });
    case 'exited':
      break;
  }
  const text = await readFile(join(context.ioDir, EXIT_CODE_FILE), 'utf8').catch(() => null);
  const exitCode = text === null ? Number.NaN : Number(text.trim());
  if (!Number.isInteger(exitCode)) {
    if (run.initFailure !== null) {
      throw unavailableError(`the lab VM could not set up its root file system: ${run.initFailure}`, { details });
    }
    if (run.initMs === null) {
      throw unavailableError(`the lab VM did not start (${qemuEnd(run)})`, { details, hint: 'run with --console to see the boot' });
    }
    throw new LocalUpError(ExitCode.failed, 'the lab VM stopped before the command finished (kernel panic or crash)', { details });
  }
  return {
    exitCode,
    ...(context.stdout === undefined ? {} : { stdout: context.stdout }),
    ...(context.stderr === undefined ? {} : { stderr: context.stderr }),
    accel: context.accel,
    initMs: run.initMs,
    bootMs: run.runMs,
    durationMs: Date.now() - context.started,
    kernelRelease: context.kernel.release,
    consoleTail,
  };
}

/** Runs a bash script (its text) in the lab with arguments; the script sees itself as /run/lab/<name>. */
export function runScriptInLab(
  options: Omit<LabRunOptions, 'command'> & { readonly script: string; readonly args?: readonly string[]; readonly scriptName?: string },
  deps: LabDeps,
): Promise<LabRunResult> {
  const { script, args, scriptName, ...rest } = options;
  const name = scriptName ?? `script-${randomBytes(3).toString('hex')}.sh`;
  return runInLab({ ...rest, files: { ...(options.files ?? {}), [name]: script }, command: ['bash', `${GUEST_IO_DIR}/${name}`, ...(args ?? [])] }, deps);
}
