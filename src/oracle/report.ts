// What one oracle run found, kept as JSON (docs/conformance/kube-proxy-<version>.json),
// rendered as JUnit for CI (through the one writer, src/io/junit.ts) and, for
// every saved run together, as the case x version table of
// docs/kube-proxy-conformance.md (hack/gen-conformance.mjs). Pure.
import type { JunitCase } from '../io/junit.js';
import { renderJunitXml } from '../io/junit.js';
import type { KubeVersion } from '../config/kube-version.js';
import { compareMinor, parseKubeVersion } from '../config/kube-version.js';

/**
 * rejected: the API server refused the case's objects; unsupported: the release's kube-proxy does not
 * take the case's configuration (e.g. nodePortAddresses "primary" before 1.31), so it never ran.
 */
export type CaseOutcome = 'match' | 'different' | 'rejected' | 'unsupported';

export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly outcome: CaseOutcome;
  /** Virtual servers the model expects for the case's Services. */
  readonly virtualServers: number;
  /** Why it differed, the API server's refusal, or why the release cannot run it; empty on a match. */
  readonly details: readonly string[];
}

export interface OracleRunResult {
  readonly schema: 1;
  /** The binary set that ran ("1.34.11"). */
  readonly kubernetes: string;
  /** What `kube-proxy --version` printed in the guest ("Kubernetes v1.34.11"). */
  readonly kubeProxyVersion: string;
  /** Day of the run, YYYY-MM-DD. */
  readonly date: string;
  /** Seconds from the first create request to the end of kube-proxy's sync. */
  readonly syncSeconds: number;
  /** Problems no case owns (virtual servers of no Service, kube-ipvs0). */
  readonly tableProblems: readonly string[];
  readonly cases: readonly CaseResult[];
}

export class OracleResultError extends Error {}

/** The outcome of one case from its verdict. */
export function caseOutcome(verdict: { readonly rejected: string | null; readonly problems: readonly string[]; readonly unsupported?: string | null }): CaseOutcome {
  if (verdict.unsupported !== undefined && verdict.unsupported !== null) return 'unsupported';
  if (verdict.rejected !== null) return 'rejected';
  return verdict.problems.length === 0 ? 'match' : 'different';
}

const OUTCOMES: readonly CaseOutcome[] = ['match', 'different', 'rejected', 'unsupported'];

/** Reads a saved run (JSON text); `source` names it in errors. */
export function readRunResult(text: string, source: string): OracleRunResult {
  const bad = (why: string): never => {
    throw new OracleResultError(`${source}: ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return bad(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) return bad('expected an object');
  const run = value as Record<string, unknown>;
  if (run.schema !== 1) bad('schema must be 1');
  for (const key of ['kubernetes', 'kubeProxyVersion', 'date'] as const) if (typeof run[key] !== 'string') bad(`${key}: a string is required`);
  if (parseKubeVersion(run.kubernetes as string) === null) bad(`kubernetes: ${JSON.stringify(run.kubernetes)} is not a version`);
  if (!Array.isArray(run.cases)) bad('cases: a list is required');
  for (const [i, c] of (run.cases as unknown[]).entries()) {
    const item = c as Record<string, unknown>;
    if (typeof item?.name !== 'string' || !OUTCOMES.includes(item.outcome as CaseOutcome)) bad(`cases[${i}]: name and outcome (${OUTCOMES.join(', ')}) are required`);
  }
  return value as OracleRunResult;
}

/** JUnit: one suite per run, one test case per oracle case plus the whole-table check. */
export function renderOracleJunit(run: OracleRunResult, seconds: number): string {
  const classname = `kube-proxy-oracle.${run.kubernetes}`;
  const cases: JunitCase[] = [
    {
      name: 'whole table: nothing the model does not expect',
      classname,
      seconds: 0,
      outcome: run.tableProblems.length === 0
        ? { status: 'passed' }
        : { status: 'failed', message: `${run.tableProblems.length} problem(s) no case owns`, type: 'oracle-table', text: run.tableProblems.join('\n') },
    },
    ...run.cases.map((c): JunitCase => ({
      name: c.name,
      classname,
      seconds: 0,
      outcome:
        c.outcome === 'match'
          ? { status: 'passed' }
          : c.outcome === 'rejected'
            ? { status: 'skipped', reason: `the API server refused the case: ${c.details.join(' ')}` }
            : c.outcome === 'unsupported'
              ? { status: 'skipped', reason: `not in kube-proxy ${run.kubernetes}: ${c.details.join(' ')}` }
              : { status: 'failed', message: `ipvs expect differs from kube-proxy ${run.kubernetes}`, type: 'model-difference', text: c.details.join('\n') },
      systemOut: `${c.description} (${c.virtualServers} virtual servers)`,
    })),
  ];
  return renderJunitXml('kube-proxy oracle', [
    { name: `kube-proxy ${run.kubernetes}`, seconds, cases, properties: [['kube-proxy', run.kubeProxyVersion], ['syncSeconds', String(run.syncSeconds)]] },
  ]);
}

const CELL: Record<CaseOutcome, string> = { match: 'match', different: '**DIFFERENT**', rejected: 'rejected by the API server', unsupported: 'not in this release' };

/** docs/kube-proxy-conformance.md: case x version, columns headed by what kube-proxy --version printed. */
export function renderConformanceDoc(runs: readonly OracleRunResult[], descriptions: ReadonlyMap<string, string>): string {
  const version = (r: OracleRunResult): KubeVersion => parseKubeVersion(r.kubernetes) as KubeVersion;
  const sorted = [...runs].sort((a, b) => compareMinor(version(a), version(b)) || a.kubernetes.localeCompare(b.kubernetes));
  const names = [...new Set([...descriptions.keys(), ...sorted.flatMap((r) => r.cases.map((c) => c.name))])].sort();
  const cell = (r: OracleRunResult, name: string): string => {
    const c = r.cases.find((x) => x.name === name);
    return c === undefined ? 'not run' : CELL[c.outcome];
  };
  const escape = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    '# kube-proxy conformance of `ipvs expect`',
    '',
    '<!-- Generated by `node hack/gen-conformance.mjs` from docs/conformance/*.json; do not edit by hand. -->',
    '',
    'Each cell says whether the IPVS table that real kube-proxy (IPVS mode, on the lab VM\'s kernel, fed by a real',
    'kube-apiserver and etcd) programmed for the case equals what `ipvs expect --k8s-version V` predicts from the same',
    '`kubectl get services,endpointslices -A -o json`, and whether a hand-altered table (one real server removed, one',
    'scheduler changed) fails with exactly those findings. The cases are test/fixtures/oracle/*.yaml; how to run them',
    'for a version is in test/fixtures/oracle/README.md. "rejected by the API server" means that release refuses the',
    "case's objects, so kube-proxy never sees them; \"not in this release\" means that release's kube-proxy does not take the",
    "case's configuration (its nodePortAddresses), so it was not run (the Details say why).",
    '',
    `| case | ${sorted.map((r) => escape(r.kubeProxyVersion)).join(' | ')} |`,
    `| --- | ${sorted.map(() => '---').join(' | ')} |`,
    ...names.map((name) => `| ${name} | ${sorted.map((r) => cell(r, name)).join(' | ')} |`),
    '',
    '| run | date | cases | match | different | rejected | not in this release | whole table | seconds to sync every case |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...sorted.map((r) => {
      const n = (o: CaseOutcome): number => r.cases.filter((c) => c.outcome === o).length;
      return `| ${escape(r.kubeProxyVersion)} | ${r.date} | ${r.cases.length} | ${n('match')} | ${n('different')} | ${n('rejected')} | ${n('unsupported')} | ${r.tableProblems.length === 0 ? 'clean' : `${r.tableProblems.length} problem(s)`} | ${r.syncSeconds} |`;
    }),
  ];
  const notes = sorted.flatMap((r) => [
    ...r.tableProblems.map((p) => `- ${escape(r.kubeProxyVersion)}, whole table: ${escape(p)}`),
    ...r.cases.filter((c) => c.outcome !== 'match').map((c) => `- ${escape(r.kubeProxyVersion)}, ${c.name} (${c.outcome}): ${escape(c.details.join('; '))}`),
  ]);
  if (notes.length > 0) lines.push('', '## Details', '', ...notes);
  lines.push('', '## Cases', '', ...names.map((name) => `- **${name}**: ${escape(descriptions.get(name) ?? '(no longer in test/fixtures/oracle)')}`), '');
  return lines.join('\n');
}
