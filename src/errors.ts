// One error type for every expected failure. It carries the exit code the CLI
// ends with and a hint that tells the user what to do next.

/** Exit codes, documented in README.md ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** A check or assertion failed. */
  failed: 1,
  /** Bad usage or settings: the message names the setting and its valid values. */
  usage: 2,
  /** Something the machine lacks: a tool, a kernel feature, a privilege. */
  unavailable: 3,
  /** An unexpected internal error: a bug in kube-local-up. */
  internal: 70,
  /** The lab VM did not finish before its timeout. */
  timeout: 124,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, one line each: `--help` and README.md ("Exit codes") list them all. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  0: 'ok',
  1: 'a check or assertion failed',
  2: 'bad usage or settings (nothing was changed)',
  3: 'something this machine lacks: a tool, a kernel feature, a privilege',
  70: 'an internal error (a bug: please report it with the output)',
  124: 'the lab VM did not finish before LAB_TIMEOUT',
  130: 'interrupted (Ctrl-C); what was started is cleaned up',
};

export interface LocalUpErrorOptions {
  /** What the user should do about it; printed after the message. */
  hint?: string;
  /** Extra evidence (a command's stderr, a console tail), printed indented. */
  details?: string;
  cause?: unknown;
}

export class LocalUpError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: string | undefined;

  constructor(exitCode: ExitCodeValue, message: string, options: LocalUpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LocalUpError';
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const usageError = (message: string, hint?: string): LocalUpError =>
  new LocalUpError(ExitCode.usage, message, hint === undefined ? {} : { hint });

export const unavailableError = (message: string, options: LocalUpErrorOptions = {}): LocalUpError =>
  new LocalUpError(ExitCode.unavailable, message, options);

export const isLocalUpError = (error: unknown): error is LocalUpError => error instanceof LocalUpError;

/** Renders an expected failure for a terminal: message, evidence, then the hint. */
export function formatError(error: LocalUpError): string {
  const lines = [`error: ${error.message}`];
  if (error.details !== undefined && error.details.trim() !== '') {
    for (const line of error.details.trimEnd().split('\n')) lines.push(`  | ${line}`);
  }
  if (error.hint !== undefined) lines.push(`hint: ${error.hint}`);
  return lines.join('\n');
}
