// Renders a migration report for people (text grouped by subject: kube-proxy, each
// node, each Service), for programs (JSON: the report itself) and for CI (JUnit: one
// testcase per subject, failed when it has a blocker or a change).
import type { JunitCase } from '../io/junit.js';
import { renderJunitXml } from '../io/junit.js';
import type { MigrationFinding, MigrationReport } from './rules.js';

const WORD = { blocker: 'BLOCKER', change: 'CHANGE', info: 'info' } as const;
const SCOPE_ORDER = { 'kube-proxy': 0, node: 1, service: 2 } as const;

function bySubject(findings: readonly MigrationFinding[]): [string, MigrationFinding[]][] {
  const groups = new Map<string, MigrationFinding[]>();
  const sorted = [...findings].sort((a, b) => SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] || a.subject.localeCompare(b.subject));
  for (const f of sorted) {
    const key = f.scope === 'kube-proxy' ? 'kube-proxy' : `${f.scope === 'node' ? 'node' : 'Service'} ${f.subject}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups];
}

export function formatMigrationReport(report: MigrationReport, options: { readonly sources?: boolean } = {}): string {
  const { counts } = report;
  const verdict = report.ok
    ? `no behaviour change found (${counts.info} notes)`
    : `${counts.blocker} blocker${counts.blocker === 1 ? '' : 's'}, ${counts.change} change${counts.change === 1 ? '' : 's'}, ${counts.info} note${counts.info === 1 ? '' : 's'}`;
  const lines = [
    `Leaving IPVS for ${report.target}: ${verdict}`,
    `  kube-proxy ${report.inputs.kubeProxyVersion}; configuration: ${report.inputs.kubeProxyConfig}`,
    `  nodes read: ${report.inputs.nodes.map((n) => n.name).join(', ') || '(none)'}`,
  ];
  for (const [subject, findings] of bySubject(report.findings)) {
    lines.push('', subject);
    for (const f of findings) {
      lines.push(`  ${WORD[f.severity]} [${f.rule}] ${f.message}`);
      if (options.sources !== false) lines.push(`    source: ${f.source}`);
    }
  }
  for (const n of report.inputs.nodes) for (const u of n.unread) lines.push(`note: node ${n.name}: not read: ${u}`);
  return `${lines.join('\n')}\n`;
}

export function renderMigrationJunit(report: MigrationReport): string {
  const cases: JunitCase[] = bySubject(report.findings).map(([subject, findings]) => {
    const failing = findings.filter((f) => f.severity !== 'info');
    const first = failing[0];
    const notes = findings.filter((f) => f.severity === 'info');
    return {
      name: subject,
      classname: `migrate-check.${report.target}`,
      seconds: 0,
      outcome: first === undefined
        ? { status: 'passed' }
        : { status: 'failed', message: failing.length === 1 ? first.message : `${first.message} (and ${failing.length - 1} more)`, type: first.rule, text: failing.map((f) => `${WORD[f.severity]} [${f.rule}] ${f.message} (source: ${f.source})`).join('\n') },
      ...(notes.length === 0 ? {} : { systemOut: notes.map((f) => `info [${f.rule}] ${f.message}`).join('\n') }),
    };
  });
  return renderJunitXml('local-up migrate-check', [{ name: `migrate-check to ${report.target}`, seconds: 0, cases }]);
}
