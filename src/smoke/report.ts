// smoke's results for people (one line per check), for programs (JSON) and for
// CI systems (JUnit XML that validates against the Jenkins-lineage JUnit
// schemas kept in test/fixtures/junit/: no attributes on <skipped>, none
// beyond name/tests/failures/errors/time on <testsuites>).
import { xmlAttribute, xmlText } from '../ipvs/report.js';

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

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${xmlAttribute(String(value))}"`)
    .join(' ');
}

const time = (s: number): string => Math.max(0, s).toFixed(3);

function testcase(c: SmokeCase): string {
  const head = `    <testcase ${attrs({ name: c.name, classname: `smoke.${c.group}`, time: time(c.seconds) })}`;
  const evidence = xmlText([c.message, ...c.evidence].join('\n'));
  switch (c.status) {
    case 'passed':
      return [`${head}>`, `      <system-out>${evidence}</system-out>`, '    </testcase>'].join('\n');
    case 'skipped':
      // The reason as text: the Jenkins schema's <skipped> takes no attributes.
      return [`${head}>`, `      <skipped>${xmlText(c.message)}</skipped>`, '    </testcase>'].join('\n');
    case 'failed':
      return [`${head}>`, `      <failure ${attrs({ message: c.message, type: c.group })}>${evidence}</failure>`, '    </testcase>'].join('\n');
    case 'error':
      return [`${head}>`, `      <error ${attrs({ message: c.message, type: c.group })}>${evidence}</error>`, '    </testcase>'].join('\n');
  }
}

/** JUnit XML: one testsuite, one testcase per check (per node and Service where that applies). */
export function renderSmokeJunit(report: SmokeReport, hostname: string): string {
  const n = (s: CaseStatus) => countCases(report.cases, s);
  const properties: [string, string][] = [
    ['namespace', report.namespace],
    ['kubeconfig', report.kubeconfig],
    ['KUBE_PROXY_MODE', report.mode],
    ['IPVS_SCHEDULER', report.scheduler],
    ['SMOKE_IMAGE', report.image],
    ['nodes', report.nodes.join(',')],
    ['cleanup', report.cleanup],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs({ name: 'local-up smoke', tests: report.cases.length, failures: n('failed'), errors: n('error'), time: time(report.seconds) })}>`,
    `  <testsuite ${attrs({
      name: `local-up smoke (${report.mode})`,
      tests: report.cases.length,
      failures: n('failed'),
      errors: n('error'),
      skipped: n('skipped'),
      time: time(report.seconds),
      timestamp: report.startedAt.replace(/\.\d+Z$/, ''),
      hostname: hostname || 'localhost',
    })}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property ${attrs({ name, value })}/>`),
    '    </properties>',
    ...report.cases.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
