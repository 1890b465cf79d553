// Doctor's human output: one line per check, the evidence, and the fix.
import type { Check, CheckStatus, DoctorReport } from './check.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const WARN_COLOUR = '\u001b[33m';
const RESET = '\u001b[0m';

/** Plain lines for logs and pipes: a status word, the id, the evidence, and the fix under it. */
export function renderChecks(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    const [first, ...more] = c.detail.split('\n');
    lines.push(`${LABEL[c.status]}  ${c.id.padEnd(width)}  ${c.title}: ${first ?? ''}`);
    for (const line of more) lines.push(`      ${' '.repeat(width)}    ${line}`);
    if (c.fix !== null && c.status !== 'pass' && c.status !== 'skip') lines.push(`      ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  lines.push('', summarise(report.checks));
  return `${lines.join('\n')}\n`;
}

export function summarise(checks: readonly Check[]): string {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const failed = count('fail');
  return `${failed === 0 ? 'ok' : 'not ready'}: ${failed} failed, ${count('warn')} warnings, ${count('pass')} passed, ${count('skip')} skipped`;
}

/**
 * On a terminal: the checklist as a listr2 task list on stdout (a tick, a cross, a skip or a
 * warning per check, its evidence, and the fix under it), then the summary line.
 */
export async function renderChecklist(report: DoctorReport): Promise<void> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const line = (c: Check) => `${c.id}  ${c.title}: ${c.detail}`;
  const list = new Listr(
    report.checks.map((c) => ({
      title: line(c),
      task: (_ctx: unknown, task: { skip(message?: string): void; output: string; title: string }) => {
        if (c.status === 'skip') return task.skip(line(c));
        if (c.status === 'fail') {
          task.title = `${c.id}  ${c.title}`;
          throw new Error(`${c.detail}${c.fix === null ? '' : `\nfix: ${c.fix}`}`);
        }
        if (c.status === 'warn') {
          task.title = `${WARN_COLOUR}! ${line(c)}${RESET}`;
          if (c.fix !== null) task.output = `fix: ${c.fix}`;
        }
        return undefined;
      },
      rendererOptions: { persistentOutput: true },
    })),
    {
      concurrent: false,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stdout, process.stdout) }), collapseErrors: false },
    },
  );
  await list.run().catch(() => undefined);
  process.stdout.write(`\n${summarise(report.checks)}\n`);
}
