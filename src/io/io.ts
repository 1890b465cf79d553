// What a command may touch of the process: its output streams, environment,
// working directory and an abort signal for Ctrl-C. Tests pass their own.
import type { Runner } from '../exec/runner.js';

export interface Io {
  /** Results (stdout). Bytes pass through unchanged (the lab relays a guest's binary output). */
  out(data: string | Uint8Array): void;
  /** Progress, warnings and errors (stderr). */
  err(data: string | Uint8Array): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** stderr is a terminal that can show live progress. */
  readonly interactive: boolean;
  /** stdout is such a terminal too (results may then be drawn as a task list). */
  readonly outputIsTerminal: boolean;
  /** stdin is a terminal (a sudo password prompt is possible). */
  readonly stdinIsTTY: boolean;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
  readonly runner: Runner;
  /** The kube-local-up checkout or installed package (holds package.json and the default .env). */
  readonly projectRoot: string;
  /** This machine's OS and kernel release (process.platform, os.release()) when not the process's own (tests). */
  readonly platform?: Platform;
}

/** This machine's operating system as Node names it ("linux", "darwin", "win32") and its kernel release. */
export interface Platform {
  readonly os: string;
  readonly release: string;
}
