// compare-modes' report: both columns side by side for people, the whole result as
// JSON for programs, JUnit for CI (one testcase per row and per node's leftovers).
import type { JunitCase } from '../io/junit.js';
import { renderJunitXml } from '../io/junit.js';
import { table } from '../io/output.js';
import type { LeftoverCheck } from '../migrate/leftovers.js';
import { formatLeftovers } from '../migrate/leftovers.js';
import type { MigrationReport } from '../migrate/rules.js';
import type { SmokeReport } from '../smoke/report.js';
import type { ComparePlan } from './plan.js';
import type { Comparison, CompareRow } from './model.js';

export interface CompareResult {
  /** No unexplained difference and no leftover. */
  readonly ok: boolean;
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly plan: ComparePlan;
  /** What each step did, in order (the switch's own lines included). */
  readonly steps: readonly { readonly id: string; readonly title: string; readonly seconds: number; readonly lines: readonly string[] }[];
  /** null when the run stopped before the switch (a blocker). */
  readonly comparison: Comparison | null;
  readonly predictions: MigrationReport | null;
  readonly smoke: { readonly before: SmokeSummary | null; readonly after: SmokeSummary | null };
  readonly leftovers: readonly LeftoverCheck[];
  /** Why the run stopped early, when it did. */
  readonly stopped: string | null;
}

export interface SmokeSummary {
  readonly ok: boolean;
  readonly namespace: string;
  readonly mode: string;
  readonly seconds: number;
  readonly cleanup: string;
}

export const smokeSummary = (r: SmokeReport): SmokeSummary => ({ ok: r.ok, namespace: r.namespace, mode: r.mode, seconds: r.seconds, cleanup: r.cleanup });

const CELL_WIDTH = 46;
const WORD: Record<CompareRow['verdict'], string> = { same: 'same', explained: 'EXPLAINED', unexplained: 'UNEXPLAINED', switch: 'the switch', 'not-compared': 'n/a', error: 'NOT COMPARED (error)' };
const STATUS: Record<string, string> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP', absent: '-' };

const short = (text: string, width = CELL_WIDTH): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);
// Probe cells say answered / no answer themselves.
const cell = (c: CompareRow['before']): string => short(c.status === 'answered' || c.status === 'no answer' ? c.text : `${STATUS[c.status] ?? c.status} ${c.text}`);

export function formatCompareReport(result: CompareResult): string {
  const lines = [`compare-modes on cluster ${result.cluster}: kube-proxy ${result.from} -> ${result.to}`];
  for (const step of result.steps) lines.push(`  ${step.title} (${step.seconds.toFixed(0)}s)`, ...step.lines.map((l) => `    ${l}`));
  const c = result.comparison;
  if (c !== null) {
    lines.push('', table([['CHECK', result.from, result.to, 'VERDICT'], ...c.rows.map((r) => [short(r.check, 60), cell(r.before), cell(r.after), `${WORD[r.verdict]}${r.finding !== null && r.verdict !== 'same' ? ` [${r.finding.rule}]` : ''}`])]).trimEnd());
    const differing = c.rows.filter((r) => r.verdict === 'explained' || r.verdict === 'unexplained' || r.verdict === 'error');
    if (differing.length > 0) lines.push('', 'Differences, and checks that could not run:');
    for (const r of differing) {
      lines.push(`  ${WORD[r.verdict]} ${r.check}: ${r.note}`);
      lines.push(`    ${result.from}: ${r.before.text}`, `    ${result.to}: ${r.after.text}`);
      if (r.finding !== null) lines.push(`    predicted by [${r.finding.rule}] (${r.finding.severity}, ${r.finding.subject}): ${r.finding.message}`, `    source: ${r.finding.source}`);
      if (r.verdict === 'unexplained') lines.push('    the migrate-check rules are wrong or incomplete here: fix the rule (src/migrate/rules.ts)');
      if (r.verdict === 'error') lines.push('    fix what stopped the check (its evidence is in the smoke log of that mode), then compare again');
    }
    if (c.unexercised.length > 0) lines.push('', 'Predicted by migrate-check, not exercised by these probes:');
    for (const f of c.unexercised) lines.push(`  ${f.severity.toUpperCase()} [${f.rule}] ${f.subject}: ${f.message}`);
  }
  if (result.leftovers.length > 0) lines.push('', ...result.leftovers.map(formatLeftovers).join('').trimEnd().split('\n'));
  if (result.stopped !== null) lines.push('', `stopped: ${result.stopped}`);
  const n = c?.counts;
  lines.push('', `compare-modes: ${result.ok ? 'OK' : 'FAIL'}${n === undefined ? '' : ` (${c?.rows.length ?? 0} rows: ${n.same} same, ${n.explained} explained, ${n.unexplained} unexplained, ${n.error} could not run, ${n['not-compared']} not compared)`}; leftovers ${result.leftovers.every((l) => l.ok) ? 'none' : 'FOUND'}`);
  return `${lines.join('\n')}\n`;
}

export function renderCompareJunit(result: CompareResult): string {
  const rows: JunitCase[] = (result.comparison?.rows ?? []).map((r) => ({
    name: r.check,
    classname: `compare-modes.${result.from}-${result.to}`,
    seconds: 0,
    outcome: r.verdict === 'unexplained'
      ? { status: 'failed', message: r.note, type: 'unexplained-difference', text: [`${result.from}: ${r.before.text}`, `${result.to}: ${r.after.text}`, ...(r.finding === null ? [] : [`[${r.finding.rule}] ${r.finding.message}`])].join('\n') }
      : r.verdict === 'error' ? { status: 'error', message: r.note, type: 'check-error', text: [`${result.from}: ${r.before.text}`, `${result.to}: ${r.after.text}`].join('\n') }
      : r.verdict === 'not-compared' ? { status: 'skipped', reason: r.note } : { status: 'passed' },
    ...(r.verdict === 'explained' && r.finding !== null ? { systemOut: `${r.note}\n[${r.finding.rule}] ${r.finding.message}` } : {}),
  }));
  const leftovers: JunitCase[] = result.leftovers.map((l) => ({
    name: `no IPVS leftovers on ${l.node} (kube-proxy in ${l.target} mode)`,
    classname: 'compare-modes.leftovers',
    seconds: 0,
    outcome: l.ok ? { status: 'passed' } : { status: 'failed', message: l.leftovers.map((x) => x.message).join('; '), type: 'ipvs-leftovers', text: formatLeftovers(l) },
  }));
  const stopped: JunitCase[] = result.stopped === null ? [] : [{ name: 'compare-modes ran to the end', classname: 'compare-modes', seconds: 0, outcome: { status: 'failed', message: result.stopped, type: 'stopped', text: result.stopped } }];
  return renderJunitXml('local-up compare-modes', [{ name: `compare-modes ${result.from} -> ${result.to}`, seconds: result.steps.reduce((s, x) => s + x.seconds, 0), cases: [...rows, ...leftovers, ...stopped] }]);
}
