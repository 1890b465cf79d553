// `modules load`: loads the modules IPVS mode needs, as root or through sudo,
// verifies them afterwards and optionally persists them in modules-load.d.
import { readFile, writeFile } from 'node:fs/promises';
import { LocalUpError, ExitCode, unavailableError } from '../errors.js';
import type { Host } from '../exec/host.js';
import type { Runner, RunResult } from '../exec/runner.js';
import { formatCommand, tail } from '../exec/runner.js';
import { findExecutable, pathWithSbin } from '../exec/which.js';
import type { KernelFacts, ModuleStatus } from './modules.js';
import { classifyModule, moduleSupport, requiredModules } from './modules.js';
import { probeKernel } from './probe.js';

const MODPROBE_TIMEOUT_MS = 60_000;
/** A person may need time to type a sudo password. */
const INTERACTIVE_SUDO_TIMEOUT_MS = 300_000;
export const PERSIST_FILE = '/etc/modules-load.d/kube-local-up-ipvs.conf';

export interface LoadPlan {
  /** Every required module and its state before loading. */
  readonly before: readonly ModuleStatus[];
  /** Loadable modules that are not loaded yet. */
  readonly toLoad: readonly string[];
}

export function planModuleLoad(kernel: KernelFacts, scheduler: string, extra: readonly string[] = []): LoadPlan {
  const before = [...requiredModules(kernel.release, scheduler), ...extra].map((name) => classifyModule(name, kernel));
  const absent = before.filter((s) => s.state === 'absent');
  if (absent.length > 0) {
    const cannotLoad = moduleSupport(kernel) === false;
    throw unavailableError(
      cannotLoad
        ? `this kernel cannot load modules (CONFIG_MODULES is not set) and does not have ${absent.map((s) => s.name).join(', ')} built in`
        : `these modules do not exist for Linux ${kernel.release.release}: ${absent.map((s) => s.name).join(', ')}`,
      {
        details: absent.map((s) => `${s.name}: ${s.evidence}`).join('\n'),
        hint: cannotLoad
          ? 'nothing was loaded. Use a kernel with IPVS (built in or as modules), or run inside the lab: npx local-up lab -- <command>'
          : 'nothing was loaded. Install the kernel modules package for this kernel, or choose an IPVS_SCHEDULER this kernel has',
      },
    );
  }
  return { before, toLoad: before.filter((s) => s.state === 'loadable').map((s) => s.name) };
}

export interface Elevation {
  /** Effective user id. */
  readonly uid: number;
  /** stdin is a terminal: sudo may ask for a password. */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Locates executables (tests pass their own); defaults to a PATH + sbin search. */
  readonly findTool?: (name: string) => string | null;
}

const locate = (elevation: Elevation, name: string): string | null =>
  elevation.findTool === undefined ? findExecutable(name, elevation.env) : elevation.findTool(name);

/** The argv that runs a command as root: directly, `sudo`, or `sudo -n`. */
export function elevatedArgv(argv: readonly string[], elevation: Elevation): { argv: string[]; prompt: boolean } {
  if (elevation.uid === 0) return { argv: [...argv], prompt: false };
  const sudo = locate(elevation, 'sudo');
  if (sudo === null) {
    throw unavailableError(`${formatCommand(argv[0] ?? '', argv.slice(1))} needs root, and this user (uid ${elevation.uid}) is not root and has no sudo`, {
      hint: `run it as root: ${formatCommand('sudo', argv)} (or \`sudo npx local-up modules load\`), or ask an administrator to load the modules`,
    });
  }
  return elevation.interactive ? { argv: [sudo, ...argv], prompt: true } : { argv: [sudo, '-n', ...argv], prompt: false };
}

function explainElevatedFailure(result: RunResult, argv: readonly string[], what: string): LocalUpError {
  const needsPassword = /a password is required|a terminal is required|no tty present/i.test(result.stderr);
  if (needsPassword) {
    return unavailableError(`${what} needs root, and sudo wants a password but there is no terminal to ask on`, {
      details: tail(result.stderr, 5),
      hint: `run it yourself on a terminal: ${formatCommand('sudo', argv)}; or allow passwordless sudo for it in CI`,
    });
  }
  if (/not in the sudoers|is not allowed to execute/i.test(result.stderr)) {
    return unavailableError(`${what} needs root, and this user may not use sudo for it`, {
      details: tail(result.stderr, 5),
      hint: `ask an administrator to run: ${formatCommand('sudo', argv)}`,
    });
  }
  return new LocalUpError(ExitCode.unavailable, `${what} failed: ${result.command} exited with ${result.exitCode ?? result.signal ?? 'an error'}`, {
    details: tail(result.stderr || result.stdout, 10),
    hint: 'the output above is modprobe\'s; check `dmesg | tail` for the kernel\'s side',
  });
}

export interface LoadDeps {
  readonly host: Host;
  readonly runner: Runner;
  readonly elevation: Elevation;
  readonly signal?: AbortSignal;
  /**
   * Run modprobe through `host` itself (already root there: a privileged container on a container
   * engine's kernel) instead of this machine's modprobe with sudo.
   */
  readonly modprobeThroughHost?: boolean;
}

export interface LoadResult {
  readonly before: readonly ModuleStatus[];
  readonly after: readonly ModuleStatus[];
  readonly loaded: readonly string[];
  readonly persisted: 'written' | 'unchanged' | 'not-requested';
}

export async function loadModules(scheduler: string, deps: LoadDeps, options: { persist: boolean; extra?: readonly string[] }): Promise<LoadResult> {
  const kernel = await probeKernel(deps.host);
  const plan = planModuleLoad(kernel, scheduler, options.extra);
  if (plan.toLoad.length > 0 && deps.modprobeThroughHost === true) {
    const result = await deps.host.run('modprobe', ['-a', '--', ...plan.toLoad], { timeoutMs: MODPROBE_TIMEOUT_MS, ...(deps.signal === undefined ? {} : { signal: deps.signal }) });
    if (result.exitCode !== 0) {
      throw new LocalUpError(ExitCode.unavailable, `loading kernel modules in ${deps.host.description} failed: ${result.command} exited with ${result.exitCode ?? result.signal ?? 'an error'}`, {
        details: tail(result.stderr || result.stdout, 10),
        hint: 'the output above is modprobe\'s, run in a privileged container on the engine\'s kernel; the engine\'s VM may lack these modules',
      });
    }
  } else if (plan.toLoad.length > 0) {
    const modprobe = locate(deps.elevation, 'modprobe');
    if (modprobe === null) {
      throw unavailableError('modprobe not found (searched PATH and the sbin folders)', { hint: 'install it: sudo apt-get install kmod (Debian/Ubuntu)' });
    }
    const base = [modprobe, '-a', '--', ...plan.toLoad];
    const { argv, prompt } = elevatedArgv(base, deps.elevation);
    const result = await deps.runner.run(argv[0] as string, argv.slice(1), {
      timeoutMs: prompt ? INTERACTIVE_SUDO_TIMEOUT_MS : MODPROBE_TIMEOUT_MS,
      env: { PATH: pathWithSbin(deps.elevation.env) },
      ...(prompt ? { stdio: 'inherit' as const } : {}),
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    });
    if (result.exitCode !== 0) throw explainElevatedFailure(result, base, 'loading kernel modules');
  }
  const verified = plan.toLoad.length === 0 ? plan.before : await probeAgain(deps.host, plan);
  const missing = verified.filter((s) => s.state !== 'loaded' && s.state !== 'builtin');
  if (missing.length > 0) {
    throw unavailableError(`modprobe succeeded, but these modules are still not loaded: ${missing.map((s) => s.name).join(', ')}`, {
      details: missing.map((s) => `${s.name}: ${s.evidence}`).join('\n'),
      hint: 'check `dmesg | tail` for why the kernel refused them',
    });
  }
  const persisted = options.persist ? await persistModules(plan.before.map((s) => s.name), deps) : 'not-requested';
  return { before: plan.before, after: verified, loaded: plan.toLoad, persisted };
}

async function probeAgain(host: Host, plan: LoadPlan): Promise<ModuleStatus[]> {
  const kernel = await probeKernel(host);
  return plan.before.map((s) => classifyModule(s.name, kernel));
}

export function persistContent(modules: readonly string[]): string {
  return `# Written by kube-local-up (local-up modules load --persist):\n# the kernel modules kube-proxy's IPVS mode needs, loaded at boot.\n${modules.join('\n')}\n`;
}

async function persistModules(modules: readonly string[], deps: LoadDeps): Promise<'written' | 'unchanged'> {
  const content = persistContent(modules);
  const existing = await readFile(PERSIST_FILE, 'utf8').catch(() => null);
  if (existing === content) return 'unchanged';
  if (deps.elevation.uid === 0) {
    await writeFile(PERSIST_FILE, content, { mode: 0o644 });
    return 'written';
  }
  const base = ['tee', PERSIST_FILE];
  const { argv, prompt } = elevatedArgv(base, deps.elevation);
  const result = await deps.runner.run(argv[0] as string, argv.slice(1), {
    timeoutMs: prompt ? INTERACTIVE_SUDO_TIMEOUT_MS : MODPROBE_TIMEOUT_MS,
    input: content,
  });
  if (result.exitCode !== 0) throw explainElevatedFailure(result, base, `writing ${PERSIST_FILE}`);
  return 'written';
}
