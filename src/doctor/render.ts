// Doctor's human output: one line per check, the evidence, and the fix.
import type { Check, CheckStatus, DoctorReport } from './check.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const SYMBOL: Record<CheckStatus, string> = { pass: '✔', warn: '!', fail: '✖', skip: '-' };
const COLOUR: Record<CheckStatus, string> = { pass: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m', skip: '\u001b[2m' };
const RESET = '\u001b[0m';

export function renderChecks(report: DoctorReport, options: { colour: boolean }): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    const label = options.colour ? `${COLOUR[c.status]}${SYMBOL[c.status]} ${LABEL[c.status]}${RESET}` : LABEL[c.status];
    lines.push(`${label}  ${c.id.padEnd(width)}  ${c.title}: ${c.detail}`);
    if (c.fix !== null && c.status !== 'pass' && c.status !== 'skip') lines.push(`${' '.repeat(options.colour ? 6 : 4)}  ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  lines.push('', summarise(report.checks));
  return `${lines.join('\n')}\n`;
}

export function summarise(checks: readonly Check[]): string {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const failed = count('fail');
  return `${failed === 0 ? 'ok' : 'not ready'}: ${failed} failed, ${count('warn')} warnings, ${count('pass')} passed, ${count('skip')} skipped`;
}
