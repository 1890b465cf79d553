// The side-by-side model of compare-modes (pure): the smoke cases and node probes of
// the first mode and of the second, paired row by row, and every difference matched
// to the migrate-check finding that predicted it (src/migrate/rules.ts). A difference
// no finding predicted is "unexplained"; so is a change a rule promised for exactly what
// a probe measures (a NodePort address, localhost NodePorts) that did not happen. Either
// means the rules are wrong: fix the rule, never the comparison.
import type { MigrationFinding, MigrationReport, RuleId } from '../migrate/rules.js';
import { SMOKE_SERVICES } from '../smoke/manifests.js';
import type { CaseStatus, SmokeCase } from '../smoke/report.js';
import type { NodeProbe, ProbeKind } from './probes.js';

/** What one mode showed. */
export interface ModeRun {
  readonly mode: string;
  /** The smoke namespace (Service findings are named namespace/name). */
  readonly namespace: string;
  readonly cases: readonly SmokeCase[];
  readonly probes: readonly NodeProbe[];
}

export type CellStatus = CaseStatus | 'answered' | 'no answer' | 'absent';

export interface Cell {
  readonly status: CellStatus;
  readonly text: string;
}

/**
 * same: nothing differs; explained: differs as a finding predicted; unexplained: differs and no finding
 * predicted it, or a finding predicted a change of exactly this that did not happen; switch: the mode
 * itself; not-compared: only one side can run it (IPVS-state checks, an address one mode lacks);
 * error: the check could not run (ERROR) in one mode or both, so nothing was measured to compare
 * (two ERRORs are not "the same behaviour": in the lab every `kubectl exec` failed in both modes).
 */
export type RowVerdict = 'same' | 'explained' | 'unexplained' | 'switch' | 'not-compared' | 'error';

export interface CompareRow {
  readonly key: string;
  /** What was checked, where: "spread: Service clusterip", "NodePort on lab 10.244.0.1". */
  readonly check: string;
  readonly before: Cell;
  readonly after: Cell;
  readonly differs: boolean;
  readonly verdict: RowVerdict;
  /** The finding that explains it, or that predicted a change (for unexplained: what was expected). */
  readonly finding: Pick<MigrationFinding, 'rule' | 'severity' | 'subject' | 'message' | 'source'> | null;
  /** Why the verdict, one line. */
  readonly note: string;
}

export interface Comparison {
  readonly from: string;
  readonly to: string;
  readonly rows: readonly CompareRow[];
  /** Findings with a behaviour change that no row exercised (predicted, not probed here). */
  readonly unexercised: readonly MigrationFinding[];
  readonly counts: Readonly<Record<RowVerdict, number>>;
  /** No unexplained row and no check that could not run. */
  readonly ok: boolean;
}

/** Smoke groups that look at IPVS state: they run in IPVS mode only. */
const IPVS_ONLY_GROUPS = new Set(['ipvs', 'headless', 'affinity-ipvs', 'scale-ipvs']);
/** The smoke Service each traffic group sends to. */
const GROUP_SERVICE: Readonly<Record<string, string>> = {
  spread: SMOKE_SERVICES.clusterIP, affinity: SMOKE_SERVICES.affinity, nodeport: SMOKE_SERVICES.nodePort, udp: SMOKE_SERVICES.udp, dns: SMOKE_SERVICES.clusterIP, 'scale-traffic': SMOKE_SERVICES.clusterIP,
};
/** The rules that speak about what a probe measures. */
const PROBE_RULES: Readonly<Record<ProbeKind, RuleId>> = {
  'nodeport-address': 'nodeport-addresses',
  'nodeport-localhost': 'localhost-nodeport',
  'ping-cluster-ip': 'service-address-ports',
  'cluster-ip-host-port': 'service-address-ports',
};
/**
 * Probes whose rule makes a firm promise about exactly what is probed: a predicted change that does not
 * happen is a wrong rule. service-address-ports says Service addresses "may" answer: not a promise.
 */
const FIRM: ReadonlySet<ProbeKind> = new Set(['nodeport-address', 'nodeport-localhost']);

/** "spread: ClusterIP Service ... (rr: even)" -> the name without its trailing parenthesis (the mode's own rule). */
const stableName = (name: string): string => name.replace(/ \([^()]*\)$/, '');
const ruleInName = (name: string): string | null => / \(([^()]*)\)$/.exec(name)?.[1] ?? null;

const ABSENT: Cell = { status: 'absent', text: '(not run)' };
const caseCell = (c: SmokeCase | undefined): Cell => (c === undefined ? ABSENT : { status: c.status, text: `${ruleInName(c.name) === null ? '' : `${ruleInName(c.name) ?? ''}: `}${c.message}` });
const probeCell = (p: NodeProbe | undefined): Cell => (p === undefined ? ABSENT : { status: p.answered ? 'answered' : 'no answer', text: `${p.answered ? p.detail : `no answer (${p.detail})`}; ${p.target}` });

const pick = (f: MigrationFinding): CompareRow['finding'] => ({ rule: f.rule, severity: f.severity, subject: f.subject, message: f.message, source: f.source });

function caseRows(before: ModeRun, after: ModeRun, findings: readonly MigrationFinding[], used: Set<MigrationFinding>): CompareRow[] {
  const key = (c: SmokeCase) => `smoke ${c.group}: ${stableName(c.name)}`;
  const keys = [...new Set([...before.cases.map(key), ...after.cases.map(key)])];
  return keys.map((k): CompareRow => {
    const b = before.cases.find((c) => key(c) === k);
    const a = after.cases.find((c) => key(c) === k);
    const group = (b ?? a)?.group ?? '';
    const cells = { before: caseCell(b), after: caseCell(a) };
    const check = `${group}: ${stableName((b ?? a)?.name ?? k)}`;
    const statusDiffers = cells.before.status !== cells.after.status;
    if (IPVS_ONLY_GROUPS.has(group)) {
      return { key: k, check, ...cells, differs: false, verdict: 'not-compared', finding: null, note: `reads IPVS state, which only ${before.mode === 'ipvs' ? before.mode : 'IPVS'} mode has` };
    }
    if (group === 'proxy-mode') {
      const ok = b?.status === 'passed' && a?.status === 'passed';
      return { key: k, check, ...cells, differs: true, verdict: ok ? 'switch' : 'unexplained', finding: null, note: ok ? `the switch itself: ${before.mode} before, ${after.mode} after` : 'kube-proxy did not run in the mode it should have' };
    }
    const errored = [b?.status === 'error' ? before.mode : null, a?.status === 'error' ? after.mode : null].filter((m) => m !== null);
    if (errored.length > 0) {
      return { key: k, check, ...cells, differs: false, verdict: 'error', finding: null, note: `the check could not run in ${errored.join(' and ')} mode (ERROR): nothing was compared` };
    }
    const ruleDiffers = group === 'spread' && b !== undefined && a !== undefined && ruleInName(b.name) !== ruleInName(a.name) && !statusDiffers;
    if (!statusDiffers && !ruleDiffers) return { key: k, check, ...cells, differs: false, verdict: 'same', finding: null, note: '' };
    if (ruleDiffers) {
      // Endpoint choice: the scheduler rule speaks of this Service, or of every rr Service at once.
      const service = `${before.namespace}/${GROUP_SERVICE[group] ?? ''}`;
      const finding = findings.find((f) => f.rule === 'scheduler' && (f.subject === service || f.scope === 'kube-proxy'));
      if (finding !== undefined) {
        used.add(finding);
        return { key: k, check, ...cells, differs: true, verdict: 'explained', finding: pick(finding), note: 'endpoint choice changed as predicted; both passed their own mode\'s rule' };
      }
      return { key: k, check, ...cells, differs: true, verdict: 'unexplained', finding: null, note: 'endpoint choice changed and no migrate-check rule predicted it' };
    }
    return { key: k, check, ...cells, differs: true, verdict: 'unexplained', finding: null, note: `${cells.before.status} before, ${cells.after.status} after: no migrate-check rule predicts this check to change` };
  });
}

/** The finding that predicts a change of this probe (null: none). */
function predictionFor(probe: Pick<NodeProbe, 'kind' | 'node' | 'address'>, findings: readonly MigrationFinding[]): MigrationFinding | null {
  const rule = PROBE_RULES[probe.kind];
  const changes = findings.filter((f) => f.rule === rule && f.severity === 'change');
  if (probe.kind === 'nodeport-address') return changes.find((f) => f.subject === probe.node && (f.addresses ?? []).includes(probe.address)) ?? null;
  return changes[0] ?? null;
}

/** Any finding of the probe's rule (a "no change" note explains a row that stays the same). */
const anyOfRule = (kind: ProbeKind, findings: readonly MigrationFinding[]) => findings.find((f) => f.rule === PROBE_RULES[kind]) ?? null;

function probeRows(before: ModeRun, after: ModeRun, findings: readonly MigrationFinding[], used: Set<MigrationFinding>): CompareRow[] {
  // The ClusterIP differs between the two smoke runs: ping and host-port rows are keyed by node only.
  const key = (p: NodeProbe) => `probe ${p.kind} ${p.node}${p.kind === 'nodeport-address' ? ` ${p.address}` : ''}`;
  const keys = [...new Set([...before.probes.map(key), ...after.probes.map(key)])];
  return keys.map((k): CompareRow => {
    const b = before.probes.find((p) => key(p) === k);
    const a = after.probes.find((p) => key(p) === k);
    const probe = (b ?? a) as NodeProbe;
    const check = {
      'nodeport-address': `NodePort from node ${probe.node} to its address ${probe.address}`,
      'nodeport-localhost': `NodePort from node ${probe.node} to ${probe.address} (localhost)`,
      'ping-cluster-ip': `ping the ClusterIP from node ${probe.node}`,
      'cluster-ip-host-port': `a port only the node listens on, through the ClusterIP, from node ${probe.node}`,
    }[probe.kind];
    const cells = { before: probeCell(b), after: probeCell(a) };
    if (b === undefined || a === undefined) {
      return { key: k, check, ...cells, differs: false, verdict: 'not-compared', finding: null, note: `only ${b === undefined ? after.mode : before.mode} mode had this to probe` };
    }
    const differs = b.answered !== a.answered;
    const predicted = predictionFor(probe, findings);
    if (predicted !== null) used.add(predicted);
    if (differs && predicted !== null) return { key: k, check, ...cells, differs, verdict: 'explained', finding: pick(predicted), note: `${b.answered ? 'answered' : 'no answer'} before, ${a.answered ? 'answered' : 'no answer'} after, as predicted` };
    if (differs) return { key: k, check, ...cells, differs, verdict: 'unexplained', finding: null, note: `${b.answered ? 'answered' : 'no answer'} before, ${a.answered ? 'answered' : 'no answer'} after, and no migrate-check rule predicted it` };
    if (predicted !== null && FIRM.has(probe.kind)) {
      return { key: k, check, ...cells, differs, verdict: 'unexplained', finding: pick(predicted), note: `migrate-check predicted a change here, but it ${b.answered ? 'answered' : 'did not answer'} in both modes` };
    }
    const note = anyOfRule(probe.kind, findings);
    return { key: k, check, ...cells, differs, verdict: 'same', finding: note === null ? null : pick(note), note: predicted !== null ? 'a change was predicted as possible ("may"); none happened' : '' };
  });
}

/** Pairs the two runs and explains every difference with the prediction made before the switch. */
export function compareRuns(before: ModeRun, after: ModeRun, predictions: MigrationReport): Comparison {
  const used = new Set<MigrationFinding>();
  const rows = [...caseRows(before, after, predictions.findings, used), ...probeRows(before, after, predictions.findings, used)];
  const unexercised = predictions.findings.filter((f) => f.severity !== 'info' && !used.has(f));
  const counts: Record<RowVerdict, number> = { same: 0, explained: 0, unexplained: 0, switch: 0, 'not-compared': 0, error: 0 };
  for (const r of rows) counts[r.verdict] += 1;
  return { from: before.mode, to: after.mode, rows, unexercised, counts, ok: counts.unexplained === 0 && counts.error === 0 };
}
