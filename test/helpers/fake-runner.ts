// A scripted Runner for unit tests: each expected command has a canned result;
// an unexpected command fails the test loudly. Calls are recorded so tests can
// assert the exact argv.
import type { RunOptions, RunResult, Runner } from '../../src/exec/runner.js';
import { formatCommand } from '../../src/exec/runner.js';

export interface FakeResponse {
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  notFound?: boolean;
  timedOut?: boolean;
}

export interface FakeRule {
  /** Matches when argv (file + args) starts with these words. */
  readonly match: readonly string[];
  readonly respond: FakeResponse | ((argv: readonly string[], options: RunOptions) => FakeResponse);
}

export interface RecordedCall {
  readonly argv: readonly string[];
  readonly options: RunOptions;
}

export class FakeRunner implements Runner {
  readonly calls: RecordedCall[] = [];
  constructor(private readonly rules: readonly FakeRule[]) {}

  async run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    const argv = [file, ...args];
    this.calls.push({ argv, options });
    const rule = this.rules.find((r) => r.match.every((word, i) => argv[i] === word));
    if (rule === undefined) throw new Error(`FakeRunner: unexpected command: ${formatCommand(file, args)}`);
    const response = typeof rule.respond === 'function' ? rule.respond(argv, options) : rule.respond;
    if (options.onLine !== undefined) {
      for (const line of (response.stdout ?? '').split('\n').filter((l) => l !== '')) options.onLine(line, 'stdout');
      for (const line of (response.stderr ?? '').split('\n').filter((l) => l !== '')) options.onLine(line, 'stderr');
    }
    return {
      command: formatCommand(file, args),
      exitCode: response.notFound === true || response.timedOut === true ? null : (response.exitCode ?? 0),
      signal: response.timedOut === true ? 'SIGTERM' : null,
      stdout: response.stdout ?? '',
      stderr: response.stderr ?? (response.notFound === true ? `${file}: not found` : ''),
      timedOut: response.timedOut === true,
      aborted: false,
      notFound: response.notFound === true,
      durationMs: 1,
    };
  }

  /** The argv of every call, as display strings. */
  commands(): string[] {
    return this.calls.map((c) => formatCommand(c.argv[0] ?? '', c.argv.slice(1)));
  }
}
