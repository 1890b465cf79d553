// The real Runner. Children start in their own process group (detached) so a
// timeout, an abort or Ctrl-C can kill the whole tree: execa 9 only signals the
// direct child, and a grandchild holding the pipes would keep the promise open.
// Because detached children are not cleaned up by execa, we track them here.
import { execa } from 'execa';
import type { RunOptions, RunResult, Runner } from './runner.js';
import { formatCommand } from './runner.js';

const KILL_GRACE_MS = 2_000;
const liveGroups = new Set<number>();

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Terminates every process group this runner started and that is still alive. */
export function terminateAllChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pid of liveGroups) signalGroup(pid, signal);
}


export class ExecaRunner implements Runner {
  async run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const command = formatCommand(file, args);
    const inherit = options.stdio === 'inherit';
    const onLine = options.onLine;
    const lineTap = (stream: 'stdout' | 'stderr') =>
      function* tap(line: unknown): Generator<unknown> {
        if (onLine !== undefined && typeof line === 'string') onLine(line, stream);
        yield line;
      };

    const subprocess = execa(file, [...args], {
      reject: false,
      detached: true,
      cleanup: false,
      stripFinalNewline: false,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env as Record<string, string> }),
      ...(inherit
        ? { stdio: 'inherit' as const }
        : {
            stdin: options.input === undefined ? ('ignore' as const) : ('pipe' as const),
            stdout: onLine === undefined ? ('pipe' as const) : ['pipe' as const, lineTap('stdout')],
            stderr: onLine === undefined ? ('pipe' as const) : ['pipe' as const, lineTap('stderr')],
          }),
      ...(options.input === undefined || inherit ? {} : { input: options.input }),
    });

    const pid = subprocess.pid;
    if (pid !== undefined) liveGroups.add(pid);
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (pid === undefined) return;
      signalGroup(pid, 'SIGTERM');
      killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    if (options.signal?.aborted === true) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const result = await subprocess;
      const errorCode = (result as { code?: unknown }).code;
      const notFound = errorCode === 'ENOENT' && result.exitCode === undefined;
      return {
        command,
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stdout: typeof result.stdout === 'string' ? result.stdout : '',
        stderr: notFound ? `${file}: not found` : typeof result.stderr === 'string' ? result.stderr : '',
        timedOut,
        aborted,
        notFound,
        durationMs: Date.now() - started,
      };
    } finally {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // The direct child is gone; make sure nothing it left in its group lives on.
        signalGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
      if (killTimer !== undefined) clearTimeout(killTimer);
    }
  }
}
