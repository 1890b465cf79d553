// The real Runner, loaded on first use. execa is the heaviest module the CLI
// has: loading it costs more than everything else together (seconds inside
// the lab VM), and many commands (help, config, offline assert) never run a
// process.
import type { RunOptions, RunResult, Runner } from './runner.js';

type ExecaRunnerModule = typeof import('./execa-runner.js');

let loaded: ExecaRunnerModule | undefined;

export class LazyExecaRunner implements Runner {
  private runner: Runner | undefined;

  async run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    if (this.runner === undefined) {
      loaded ??= await import('./execa-runner.js');
      this.runner = new loaded.ExecaRunner();
    }
    return this.runner.run(file, args, options);
  }
}

/** Terminates the process groups the real runner started, if it was ever loaded. */
export function terminateStartedChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  loaded?.terminateAllChildren(signal);
}
