// Ways to run the CLI from tests: in-process with captured output and a scripted
// runner (fast, for logic), or as a real subprocess of the built bin (for exit
// codes, stdout purity and start-up behaviour).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { constants, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommandLine } from '../../src/cli/main.js';
import type { Io, Platform } from '../../src/io/io.js';
import { formatError, isLocalUpError } from '../../src/errors.js';
import type { Runner } from '../../src/exec/runner.js';
import { FakeRunner } from './fake-runner.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'local-up.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh, empty folder under the system temp dir. */
export function tempDir(prefix = 'local-up-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An environment with nothing from the developer's shell that could change results. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: tempDir('local-up-home-'), LANG: 'C.UTF-8', ...extra };
}

export interface InProcessOptions {
  env?: Record<string, string | undefined>;
  runner?: Runner;
  cwd?: string;
  projectRoot?: string;
  interactive?: boolean;
  /** Play another OS and kernel release (Io.platform), e.g. macOS. */
  platform?: Platform;
}

/** An Io like main()'s, whose output is captured (for calling a command's library function directly). */
export function captureIo(options: InProcessOptions = {}): { io: Io; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (data) => void (stdout += typeof data === 'string' ? data : Buffer.from(data).toString('utf8')),
    err: (data) => void (stderr += typeof data === 'string' ? data : Buffer.from(data).toString('utf8')),
    env: options.env ?? cleanEnv(),
    cwd: options.cwd ?? ROOT,
    interactive: options.interactive ?? false,
    outputIsTerminal: false,
    stdinIsTTY: false,
    signal: new AbortController().signal,
    runner: options.runner ?? new FakeRunner([]),
    projectRoot: options.projectRoot ?? tempDir('local-up-project-'),
    ...(options.platform === undefined ? {} : { platform: options.platform }),
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the CLI in this process, the way main() does, and captures everything. */
export async function runInProcess(argv: readonly string[], options: InProcessOptions = {}): Promise<CliResult> {
  return captured(captureIo(options), (io) => runCommandLine(argv, io));
}

/** Runs `work` (a command's library function) the way main() would, turning a LocalUpError into its exit code and message. */
export async function captured(capture: ReturnType<typeof captureIo>, work: (io: Io) => Promise<number>): Promise<CliResult> {
  try {
    return { code: await work(capture.io), stdout: capture.stdout(), stderr: capture.stderr() };
  } catch (error) {
    if (!isLocalUpError(error)) throw error;
    return { code: error.exitCode, stdout: capture.stdout(), stderr: `${capture.stderr()}${formatError(error)}\n` };
  }
}

export interface BinOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Killed (SIGKILL) and the promise rejected after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed (default: no stdin). */
  input?: string;
  /** The script to run instead of bin/local-up.js (e.g. scripts/e2e.mjs). */
  script?: string;
  /** Node's own options, before the script (e.g. --max-old-space-size=512, or --import tsx --test). */
  nodeArgs?: readonly string[];
  /** Where its stdout goes instead of being captured: a file descriptor (e.g. /dev/full) or 'ignore'. */
  stdout?: number | 'ignore';
}

export interface RunningBin {
  readonly child: ChildProcess;
  /** What it has printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when it exits: the exit code (128 + n after a signal), stdout and stderr. */
  readonly result: Promise<CliResult>;
}

/** Starts the built CLI (or `script`) as a real process: the one way tests spawn it. */
export function startBin(argv: readonly string[], options: BinOptions = {}): RunningBin {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? BIN, ...argv], {
    env: (options.env ?? cleanEnv()) as NodeJS.ProcessEnv,
    cwd: options.cwd ?? ROOT,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', options.stdout ?? 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  if (options.input !== undefined) child.stdin?.end(options.input);
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.script ?? 'local-up'} ${argv.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => (clearTimeout(timer), reject(error)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)), stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), result };
}

/** Runs the built CLI (or `script`) as a real process to its end. */
export function runBin(argv: readonly string[], options: BinOptions = {}): Promise<CliResult> {
  return startBin(argv, options).result;
}
