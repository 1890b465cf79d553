// smoke's results for people (one line per check), for programs (JSON) and for
// CI systems (JUnit XML, through the one writer in src/io/junit.ts).
import type { JunitCase } from '../io/junit.js';
import { renderJunitXml } from '../io/junit.js';

export type CaseStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface SmokeCase {
  /** The check group: "proxy-mode", "ipvs", "spread", ... (JUnit classname "smoke.<group>"). */
  readonly group: string;
  /** The test case name CI shows: what was checked, where (Service, node). */
  readonly name: string;
  readonly status: CaseStatus;
  /** One line: why it passed, failed or was skipped. */
  readonly message: string;
  readonly evidence: readonly string[];
  readonly seconds: number;
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly mode: string;
  readonly scheduler: string;
  readonly image: string;
  readonly nodes: readonly string[];
  readonly startedAt: string;
  readonly seconds: number;
  /** "deleted", "kept (--keep)", "delete failed: ..." */
  readonly cleanup: string;
  readonly interrupted: boolean;
  readonly cases: readonly SmokeCase[];
}

const WORD: Record<CaseStatus, string> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' };

export const caseLine = (c: SmokeCase): string => `${WORD[c.status]} ${c.name}: ${c.message}`;

export const countCases = (cases: readonly SmokeCase[], status: CaseStatus): number => cases.filter((c) => c.status === status).length;

/** The text report: one line per case, evidence of failures indented, a verdict last. */
export function formatSmokeReport(report: SmokeReport): string {
  const lines = [`smoke in namespace ${report.namespace} (KUBE_PROXY_MODE=${report.mode}, scheduler ${report.scheduler}, ${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'})`];
  for (const c of report.cases) {
    lines.push(caseLine(c));
    if (c.status === 'failed' || c.status === 'error') for (const e of c.evidence) lines.push(`    ${e}`);
  }
  const n = (s: CaseStatus) => countCases(report.cases, s);
  lines.push(`namespace ${report.namespace}: ${report.cleanup}`);
  lines.push(`smoke: ${report.ok ? 'PASS' : report.interrupted ? 'INTERRUPTED' : 'FAIL'} (${n('passed')} passed, ${n('failed')} failed, ${n('error')} errors, ${n('skipped')} skipped in ${report.seconds.toFixed(1)}s)`);
  return `${lines.join('\n')}\n`;
}

/** The JSON document `smoke --json` prints. */
export function smokeJson(report: SmokeReport): SmokeReport & { readonly counts: Readonly<Record<CaseStatus, number>> } {
  return {
    ...report,
    counts: { passed: countCases(report.cases, 'passed'), failed: countCases(report.cases, 'failed'), error: countCases(report.cases, 'error'), skipped: countCases(report.cases, 'skipped') },
  };
}

function testcase(c: SmokeCase): JunitCase {
  const evidence = [c.message, ...c.evidence].join('\n');
  const base = { name: c.name, classname: `smoke.${c.group}`, seconds: c.seconds };
  switch (c.status) {
    case 'passed':
      return { ...base, outcome: { status: 'passed' }, systemOut: evidence };
    case 'skipped':
      return { ...base, outcome: { status: 'skipped', reason: c.message } };
    case 'failed':
    case 'error':
      return { ...base, outcome: { status: c.status, message: c.message, type: c.group, text: evidence } };
  }
}

/** JUnit XML: one testsuite, one testcase per check (per node and Service where that applies). */
export function renderSmokeJunit(report: SmokeReport, hostname: string): string {
  const properties: [string, string][] = [
    ['namespace', report.namespace],
    ['kubeconfig', report.kubeconfig],
    ['KUBE_PROXY_MODE', report.mode],
    ['IPVS_SCHEDULER', report.scheduler],
    ['SMOKE_IMAGE', report.image],
    ['nodes', report.nodes.join(',')],
    ['cleanup', report.cleanup],
  ];
  return renderJunitXml('local-up smoke', [
    {
      name: `local-up smoke (${report.mode})`,
      seconds: report.seconds,
      timestamp: report.startedAt.replace(/\.\d+Z$/, ''),
      hostname: hostname || 'localhost',
      properties,
      cases: report.cases.map(testcase),
    },
  ]);
}
