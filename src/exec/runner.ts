// The one seam through which kube-local-up starts processes. Everything that
// needs a command receives a Runner, so tests can pass a scripted double and the
// same code can target this machine, a kind node or the lab VM.

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  /** Every command has a deadline; the whole process group is killed when it passes. */
  timeoutMs: number;
  /** Text written to the command's stdin. */
  input?: string;
  /** Variables added to (or, with value undefined, removed from) the inherited environment. */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Aborting kills the process group, like a timeout. */
  signal?: AbortSignal;
  /** 'inherit' connects the terminal (for a sudo password prompt); output is then not captured. */
  stdio?: 'pipe' | 'inherit';
  /** Called for each output line as it arrives (progress, log files). */
  onLine?: (line: string, stream: OutputStream) => void;
}

export interface RunResult {
  /** The command as the user could paste it into a shell (for messages only). */
  command: string;
  /** null when the process did not exit normally (killed, or never started). */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** The executable was not found. */
  notFound: boolean;
  durationMs: number;
}

export interface Runner {
  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult>;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for display in a message (never executed). */
export function quoteForDisplay(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(quoteForDisplay).join(' ');
}

/** The last lines of a text, for error details. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

/** Describes why a finished command did not succeed, in one line. */
export function describeFailure(result: RunResult, timeoutMs?: number): string {
  if (result.notFound) return `${result.command}: command not found`;
  if (result.timedOut) {
    return `${result.command} did not finish within ${timeoutMs === undefined ? 'its timeout' : `${Math.round(timeoutMs / 1000)}s`}`;
  }
  if (result.aborted) return `${result.command} was interrupted`;
  if (result.exitCode === null) return `${result.command} was killed by ${result.signal ?? 'a signal'}`;
  return `${result.command} exited with code ${result.exitCode}`;
}

export const succeeded = (result: RunResult): boolean => result.exitCode === 0;
