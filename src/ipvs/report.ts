// Renders IPVS checks for people (text grouped by Service port), for programs
// (JSON) and for CI systems (JUnit XML: one testsuite per node, one testcase
// per Service port).
import type { IpFamily } from '../kube/ip.js';
import type { JunitCase } from '../io/junit.js';
import { renderJunitXml } from '../io/junit.js';
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
  /** Name of the JUnit document (its testsuites element). */
  readonly name?: string;
  /** Seconds each node's check took, by node name (default 0). */
  readonly timeSeconds?: Readonly<Record<string, number>>;
}

/** JUnit XML (src/io/junit.ts): one testsuite per node, one testcase per Service port, warnings and notes as system-out. */
export function renderJunit(checks: readonly NodeCheck[], options: JunitOptions = {}): string {
  return renderJunitXml(
    options.name ?? 'local-up assert',
    checks.map((check) => ({
      name: `ipvs ${check.node}`,
      seconds: options.timeSeconds?.[check.node] ?? 0,
      cases: check.diff.services.map((group) => testcase(check.node, group)),
      ...(check.diff.notes.length === 0 ? {} : { systemOut: check.diff.notes.map((n) => `note: ${n}`).join('\n') }),
    })),
  );
}

function testcase(node: string, group: ServicePortResult): JunitCase {
  const failures = group.findings.filter((f) => f.severity === 'failure');
  const warnings = group.findings.filter((f) => f.severity === 'warning');
  const first = failures[0];
  return {
    name: group.label,
    classname: `ipvs.${node}`,
    seconds: 0,
    outcome:
      first === undefined
        ? { status: 'passed' }
        : { status: 'failed', message: failures.length === 1 ? first.message : `${first.message} (and ${failures.length - 1} more)`, type: first.kind, text: failures.map(evidence).join('\n') },
    ...(warnings.length === 0 ? {} : { systemOut: warnings.map(evidence).join('\n') }),
  };
}

function evidence(f: IpvsFinding): string {
  const parts = [`${SEVERITY_WORD[f.severity]} ${f.kind}: ${f.message}`];
  if (f.expected !== null) parts.push(`expected: ${f.expected}`);
  if (f.actual !== null) parts.push(`actual: ${f.actual}`);
  return parts.join('; ');
}
