// Starts one qemu process for a lab run and watches it: streams the guest's
// stdout/stderr ports as they arrive, keeps the console's tail for errors,
// notes when /init starts and when the command starts, and kills the whole
// process group on timeout, abort, or a missed boot deadline.
// NOTE: we spawn qemu here rather than through the Runner: the Runner returns
// only at the end and has no extra file descriptors (fds 3 and 4 carry output).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { FAIL_MARKER, INIT_MARKER, RUN_MARKER } from './guest.js';
import { QEMU_BINARY } from './qemu.js';

const KILL_GRACE_MS = 2_000;
const CONSOLE_TAIL_BYTES = 64 * 1024;
const QEMU_STDERR_BYTES = 16 * 1024;

/** setpriv (util-linux) makes the kernel kill qemu if we die without cleaning up (even by SIGKILL). */
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

function findSetpriv(): string | null {
  for (const path of SETPRIV_PATHS) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Try the next one.
    }
  }
  return null;
}

export interface VmWatch {
  readonly timeoutMs: number;
  /** Kill qemu when /init has not printed its marker by then (the KVM probe). */
  readonly bootDeadlineMs?: number;
  readonly signal?: AbortSignal;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** Console text as it arrives (for --console). */
  readonly onConsole?: (text: string) => void;
}

export type VmOutcome = 'exited' | 'timeout' | 'aborted' | 'boot-deadline' | 'spawn-failed';

export interface VmRun {
  readonly outcome: VmOutcome;
  /** qemu's exit code (null when killed). */
  readonly qemuExitCode: number | null;
  /** The signal that ended qemu (SIGABRT when it failed an assertion), or null. */
  readonly qemuSignal: string | null;
  /** What qemu itself printed (its own errors). */
  readonly qemuStderr: string;
  readonly consoleTail: string;
  /** Milliseconds from spawn to the init marker / the run marker; null if not seen. */
  readonly initMs: number | null;
  readonly runMs: number | null;
  /** The reason /init printed after its failure marker, if it failed. */
  readonly initFailure: string | null;
  readonly durationMs: number;
}

class TailBuffer {
  private text = '';
  constructor(private readonly limit: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  value(): string {
    return this.text.slice(-this.limit);
  }
}

/** Runs qemu with these arguments to completion (or until killed) and reports what happened. */
export function runQemu(args: readonly string[], watch: VmWatch): Promise<VmRun> {
  const started = Date.now();
  const setpriv = findSetpriv();
  const [file, argv] = setpriv === null ? [QEMU_BINARY, [...args]] : [setpriv, ['--pdeathsig', 'KILL', '--', QEMU_BINARY, ...args]];
  const consoleTail = new TailBuffer(CONSOLE_TAIL_BYTES);
  const qemuStderr = new TailBuffer(QEMU_STDERR_BYTES);
  let pending = '';
  let initMs: number | null = null;
  let runMs: number | null = null;
  let initFailure: string | null = null;
  let outcome: VmOutcome = 'exited';

  return new Promise<VmRun>((resolve) => {
    const child = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    const stop = (why: VmOutcome) => {
      if (outcome !== 'exited') return;
      outcome = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };

    const deadline = setTimeout(() => stop('timeout'), watch.timeoutMs);
    const bootDeadline = watch.bootDeadlineMs === undefined ? undefined : setTimeout(() => {
      if (initMs === null) stop('boot-deadline');
    }, watch.bootDeadlineMs);
    const onAbort = () => stop('aborted');
    if (watch.signal?.aborted === true) onAbort();
    watch.signal?.addEventListener('abort', onAbort, { once: true });

    const [, consoleStream, stderrStream, guestOut, guestErr] = child.stdio;
    consoleStream?.setEncoding('utf8');
    consoleStream?.on('data', (text: string) => {
      consoleTail.push(text);
      watch.onConsole?.(text);
      pending += text;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (initMs === null && line.includes(INIT_MARKER)) initMs = Date.now() - started;
        if (runMs === null && line.includes(RUN_MARKER)) runMs = Date.now() - started;
        const failAt = line.indexOf(FAIL_MARKER);
        if (failAt !== -1 && initFailure === null) initFailure = line.slice(failAt + FAIL_MARKER.length).trim();
      }
    });
    stderrStream?.setEncoding('utf8');
    stderrStream?.on('data', (text: string) => qemuStderr.push(text));
    // Streams are read to the end even when nobody listens, so qemu never blocks on a full pipe.
    guestOut?.on('data', (chunk: Buffer) => watch.onStdout?.(chunk));
    guestErr?.on('data', (chunk: Buffer) => watch.onStderr?.(chunk));

    let settled = false;
    const finish = (code: number | null, signal: string | null, spawnFailure: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (bootDeadline !== undefined) clearTimeout(bootDeadline);
      if (killTimer !== undefined) clearTimeout(killTimer);
      watch.signal?.removeEventListener('abort', onAbort);
      // Anything qemu left in its group (nothing, normally) goes with it.
      killGroup('SIGKILL');
      resolve({
        outcome: spawnFailure === null ? outcome : 'spawn-failed',
        qemuExitCode: code,
        qemuSignal: signal,
        qemuStderr: spawnFailure === null ? qemuStderr.value() : `${file}: ${spawnFailure.message}`,
        consoleTail: consoleTail.value(),
        initMs,
        runMs,
        initFailure,
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (error) => {
      if (child.pid === undefined) finish(null, null, error);
    });
    child.on('close', (code, signal) => finish(code, signal, null));
  });
}
