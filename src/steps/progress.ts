// Progress for long work, on stderr: a listr2 task list on a terminal, plain
// "• step" lines elsewhere (CI logs, pipes), nothing with --json's quiet mode.
// listr2's own signal handler exits 127 without cleanup, so it is turned off;
// Ctrl-C reaches the steps through the Io's abort signal instead.
import type { Io } from '../io/io.js';

export interface Step<C> {
  readonly title: string;
  /** A reason to skip the step, or false to run it. */
  readonly skip?: (context: C) => string | false;
  run(context: C, progress: (line: string) => void): Promise<void>;
}

export interface StepOptions {
  /** Run independent steps at the same time. */
  readonly concurrent?: boolean;
  /** Print nothing (for --json). */
  readonly quiet?: boolean;
}

export async function runSteps<C>(io: Io, steps: readonly Step<C>[], context: C, options: StepOptions = {}): Promise<void> {
  if (options.quiet === true) {
    await runPlain(steps, context, () => {}, options.concurrent === true);
    return;
  }
  if (!io.interactive) {
    await runPlain(steps, context, (line) => io.err(line), options.concurrent === true);
    return;
  }
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  // Both renderers write to stderr: listr2 falls back to its simple renderer when stdout is not a
  // terminal (`up > summary.txt`), and that one would otherwise print progress into stdout.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      skip: () => step.skip?.(context) ?? false,
      task: async (_ctx: unknown, task: { output: string }) => {
        await step.run(context, (line) => {
          task.output = line;
        });
      },
    })),
    {
      concurrent: options.concurrent === true,
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { logger, collapseSubtasks: false },
      fallbackRendererOptions: { logger },
    },
  );
  await list.run();
}

async function runPlain<C>(steps: readonly Step<C>[], context: C, write: (text: string) => void, concurrent: boolean): Promise<void> {
  const runOne = async (step: Step<C>) => {
    const skip = step.skip?.(context) ?? false;
    if (skip !== false) {
      write(`• ${step.title}: skipped (${skip})\n`);
      return;
    }
    write(`• ${step.title} ...\n`);
    const started = Date.now();
    try {
      await step.run(context, (line) => write(`  ${line}\n`));
    } catch (error) {
      write(`✗ ${step.title} failed\n`);
      throw error;
    }
    write(`✓ ${step.title} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  };
  if (concurrent) await Promise.all(steps.map(runOne));
  else for (const step of steps) await runOne(step);
}

/** Runs one piece of work as a single progress step and returns its result. */
export async function withProgress<T>(io: Io, title: string, work: () => Promise<T>, options: StepOptions = {}): Promise<T> {
  let result: { value: T } | undefined;
  await runSteps(io, [{ title, run: async () => void (result = { value: await work() }) }], null, options);
  if (result === undefined) throw new Error(`step "${title}" finished without a result`);
  return result.value;
}
