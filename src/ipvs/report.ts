// Renders IPVS checks for people (text grouped by Service port), for programs
// (JSON) and for CI systems (JUnit XML: one testsuite per node, one testcase
// per Service port).
import type { IpFamily } from '../kube/ip.js';
import type { IpvsFinding, NodeCheck, ServicePortResult } from './diff.js';

const SEVERITY_WORD = { failure: 'FAIL', warning: 'WARN' } as const;

function familyNames(families: readonly IpFamily[]): string[] {
  return families.map((f) => `IPv${f}`);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** One line per finding, grouped by Service port, with a summary first and notes last. */
export function formatIpvsReport(check: NodeCheck): string {
  const { diff } = check;
  const servicePorts = diff.services.filter((s) => s.service !== null).length;
  const verdict = diff.ok
    ? `OK: ${plural(diff.counts.matchedVirtualServers, 'virtual server')} of ${plural(servicePorts, 'Service port')} match` +
      (diff.warnings > 0 ? `, ${plural(diff.warnings, 'warning')}` : '')
    : `FAIL: ${plural(diff.failures, 'failure')}${diff.warnings > 0 ? `, ${plural(diff.warnings, 'warning')}` : ''}`;
  const lines = [
    `IPVS on node ${check.node} (${familyNames(check.families).join(', ')}): ${verdict}`,
    `  expected ${plural(diff.counts.expectedVirtualServers, 'virtual server')} for ${plural(servicePorts, 'Service port')}; ` +
      `the table has ${diff.counts.actualVirtualServers} (${diff.counts.matchedVirtualServers} matched, ${diff.counts.ignoredVirtualServers} ignored)`,
  ];
  for (const group of diff.services) {
    for (const f of group.findings) lines.push(`${SEVERITY_WORD[f.severity]} ${group.label}: ${f.message}`);
  }
  for (const note of diff.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON document `local-up assert --json` prints for one node. */
export interface IpvsCheckJson {
  readonly node: string;
  readonly families: readonly string[];
  readonly ok: boolean;
  readonly failures: number;
  readonly warnings: number;
  readonly counts: NodeCheck['diff']['counts'];
  readonly kubeIpvs0Addresses: readonly string[];
  readonly services: readonly ServicePortResult[];
  readonly notes: readonly string[];
}

export function ipvsCheckJson(check: NodeCheck): IpvsCheckJson {
  const { diff } = check;
  return {
    node: check.node,
    families: familyNames(check.families),
    ok: diff.ok,
    failures: diff.failures,
    warnings: diff.warnings,
    counts: diff.counts,
    kubeIpvs0Addresses: check.expected.kubeIpvs0Addresses,
    services: diff.services,
    notes: diff.notes,
  };
}

export interface JunitOptions {
  /** Name of the <testsuites> element. */
  readonly name?: string;
  /** Seconds each node's check took, by node name (default 0). */
  readonly timeSeconds?: Readonly<Record<string, number>>;
}

/** JUnit XML in the common schema: testsuites/testsuite/testcase/failure, with system-out for warnings and notes. */
export function renderJunit(checks: readonly NodeCheck[], options: JunitOptions = {}): string {
  const suites = checks.map((check) => {
    const time = options.timeSeconds?.[check.node] ?? 0;
    const cases = check.diff.services.map((group) => testcase(check.node, group));
    const failures = check.diff.services.filter((s) => !s.ok).length;
    const out = check.diff.notes.length === 0 ? [] : [`    <system-out>${xmlText(check.diff.notes.map((n) => `note: ${n}`).join('\n'))}</system-out>`];
    return {
      tests: cases.length,
      failures,
      time,
      xml: [
        `  <testsuite ${attrs({ name: `ipvs ${check.node}`, tests: cases.length, failures, errors: 0, skipped: 0, time: seconds(time) })}>`,
        ...cases,
        ...out,
        '  </testsuite>',
      ].join('\n'),
    };
  });
  const total = (pick: (s: (typeof suites)[number]) => number): number => suites.reduce((n, s) => n + pick(s), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs({
      name: options.name ?? 'local-up assert',
      tests: total((s) => s.tests),
      failures: total((s) => s.failures),
      errors: 0,
      // NOTE: no "skipped" here: the Jenkins JUnit schemas allow it on <testsuite> only (test/fixtures/junit/).
      time: seconds(total((s) => s.time)),
    })}>`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(node: string, group: ServicePortResult): string {
  const head = `    <testcase ${attrs({ name: group.label, classname: `ipvs.${node}`, time: seconds(0) })}`;
  const failures = group.findings.filter((f) => f.severity === 'failure');
  const warnings = group.findings.filter((f) => f.severity === 'warning');
  if (failures.length === 0 && warnings.length === 0) return `${head}/>`;
  const body: string[] = [];
  if (failures.length > 0) {
    const first = failures[0] as IpvsFinding;
    const message = failures.length === 1 ? first.message : `${first.message} (and ${failures.length - 1} more)`;
    body.push(`      <failure ${attrs({ message, type: first.kind })}>${xmlText(failures.map(evidence).join('\n'))}</failure>`);
  }
  if (warnings.length > 0) body.push(`      <system-out>${xmlText(warnings.map(evidence).join('\n'))}</system-out>`);
  return [`${head}>`, ...body, '    </testcase>'].join('\n');
}

function evidence(f: IpvsFinding): string {
  const parts = [`${SEVERITY_WORD[f.severity]} ${f.kind}: ${f.message}`];
  if (f.expected !== null) parts.push(`expected: ${f.expected}`);
  if (f.actual !== null) parts.push(`actual: ${f.actual}`);
  return parts.join('; ');
}

function seconds(value: number): string {
  return value.toFixed(3);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${xmlAttribute(String(value))}"`)
    .join(' ');
}

// Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text content; characters XML cannot hold become U+FFFD. */
export function xmlText(text: string): string {
  return text.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (quotes and line breaks too, so they survive attribute normalization). */
export function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
