// Pure judgements over what a probe saw and what IPVS shows. The same
// functions judge answers gathered in a cluster (through the client pod) and in
// the lab (from the VM): they only see backend names, counts and IPVS tables.
import type { IpvsTable } from '../ipvs/model.js';
import { canonicalAddress } from '../kube/ip.js';
import { hostPort, virtualServerKey } from '../ipvs/model.js';
import type { DialResult } from './dial.js';

/**
 * How answers to one client must spread over the backends:
 * - even: every backend answers, each close to an equal share (tolerance: evenTolerance);
 * - sticky: one backend answers everything;
 * - coverage: every backend answers at least once;
 * - unconstrained: only "every answer comes from a backend, no errors".
 */
export type SpreadRule = 'even' | 'sticky' | 'coverage' | 'unconstrained';

export interface SpreadExpectation {
  readonly rule: SpreadRule;
  /** Why this scheduler implies the rule (for the report). */
  readonly why: string;
}

/**
 * The rule for sequential requests from one client, one new connection each, to a
 * Service whose real servers all have weight 1 (kube-proxy never sets another).
 * NOTE: the reasons follow the kernel's schedulers (net/netfilter/ipvs/ip_vs_<name>.c) and
 * kube-proxy setting flag 0x10 (mh-port) for mh.
 */
export function expectedSpread(mode: string, scheduler: string, affinity = false): SpreadExpectation {
  if (affinity) {
    return { rule: 'sticky', why: 'ClientIP affinity: the first connection creates a persistence template, every later one from the same client follows it' };
  }
  if (mode !== 'ipvs') {
    return { rule: 'coverage', why: `${mode} mode picks an endpoint at random for each new connection, so every backend answers over enough requests` };
  }
  switch (scheduler) {
    case 'rr':
    case 'wrr':
      return { rule: 'even', why: `${scheduler}: IPVS rotates through the real servers (all weight 1, so wrr behaves as rr), each backend gets an equal share` };
    case 'sh':
      return { rule: 'sticky', why: 'sh: the source address is hashed (kube-proxy sets no sh-port flag), so one client always reaches the same backend' };
    case 'dh':
      return { rule: 'sticky', why: 'dh: the destination (Service) address is hashed, so every connection to it reaches the same backend' };
    case 'lblc':
    case 'lblcr':
      return { rule: 'sticky', why: `${scheduler}: connections to one Service address stay on the backend chosen for it while that backend is not overloaded` };
    case 'lc':
    case 'wlc':
      return { rule: 'coverage', why: `${scheduler}: recently closed connections still count (inactive, 1/256 of an active one), so sequential requests move on and every backend answers` };
    case 'mh':
      return { rule: 'coverage', why: 'mh: kube-proxy sets the mh-port flag (0x10), so the source port is hashed too and new connections spread; every backend answers over enough requests' };
    case 'twos':
      return { rule: 'coverage', why: 'twos: two random candidates per connection, so every backend answers over enough requests' };
    case 'sed':
    case 'nq':
      return { rule: 'unconstrained', why: `${scheduler}: only active connections count, so sequential requests find every backend idle and may all go to one; only the answers themselves are checked` };
    case 'fo':
    case 'ovf':
      return { rule: 'unconstrained', why: `${scheduler}: the first available real server of the highest weight takes everything while it is not overloaded; only the answers themselves are checked` };
    default:
      return { rule: 'unconstrained', why: `${scheduler}: no rule known for this scheduler; only the answers themselves are checked` };
  }
}

/**
 * How far each backend's count may be from n/k under the even rule: max(1, ceil(n / 4k)).
 * rr on one virtual server with one new connection per request is a strict rotation (shares
 * differ by at most 1). The slack covers connections IPVS does not schedule afresh (a new
 * connection matching an old entry still in TIME_WAIT may be sent to that entry's real server)
 * and other clients of the same virtual server; a backend left out, or one taking a double
 * share, is never within it for n >= 2k.
 */
export function evenTolerance(requests: number, backends: number): number {
  return Math.max(1, Math.ceil(requests / (4 * Math.max(1, backends))));
}

export interface SpreadVerdict {
  readonly ok: boolean;
  readonly rule: SpreadRule;
  /** Answers per backend (every backend listed, 0 when it never answered). */
  readonly counts: Readonly<Record<string, number>>;
  readonly answers: number;
  readonly errors: readonly string[];
  /** Answers that are not one of the backends. */
  readonly strangers: readonly string[];
  /** Under the even rule: the share expected per backend and the allowed deviation. */
  readonly share: { readonly expected: number; readonly tolerance: number } | null;
  /** One line per problem; empty when ok. */
  readonly problems: readonly string[];
  /** "30 answers: a 10, b 10, c 10" */
  readonly summary: string;
}

function countAnswers(result: DialResult, backends: readonly string[]) {
  const counts: Record<string, number> = Object.fromEntries(backends.map((b) => [b, 0]));
  const strangers: string[] = [];
  for (const answer of result.responses) {
    if (answer in counts) counts[answer] = (counts[answer] ?? 0) + 1;
    else strangers.push(answer);
  }
  return { counts, strangers };
}

function errorProblems(result: DialResult, tries: number): string[] {
  const problems: string[] = [];
  if (result.errors.length > 0) {
    const distinct = [...new Set(result.errors)];
    problems.push(`${result.errors.length} of ${tries} requests failed: ${distinct.slice(0, 3).join('; ')}${distinct.length > 3 ? ` (and ${distinct.length - 3} other errors)` : ''}`);
  }
  if (result.responsesOmitted) problems.push('the last request failed, so netexec did not report the answers of the others');
  return problems;
}

const summarize = (counts: Readonly<Record<string, number>>, answers: number, strangers: readonly string[]): string =>
  `${answers} answer${answers === 1 ? '' : 's'}: ${Object.entries(counts).map(([b, n]) => `${b} ${n}`).join(', ')}${strangers.length > 0 ? `; not backends: ${[...new Set(strangers)].join(', ')}` : ''}`;

/** Judges one probe of `tries` requests against the backends' names under a spread rule. */
export function judgeSpread(result: DialResult, backends: readonly string[], rule: SpreadRule, tries: number): SpreadVerdict {
  const { counts, strangers } = countAnswers(result, backends);
  const answers = result.responses.length;
  const problems = errorProblems(result, tries);
  if (strangers.length > 0) problems.push(`answers from something that is not a smoke backend: ${[...new Set(strangers)].join(', ')}`);
  if (answers === 0 && !result.responsesOmitted) problems.push('no answer at all');
  let share: SpreadVerdict['share'] = null;
  const seen = backends.filter((b) => (counts[b] ?? 0) > 0);
  if (answers > 0 && problems.length === 0) {
    switch (rule) {
      case 'even': {
        const expected = answers / Math.max(1, backends.length);
        const tolerance = evenTolerance(answers, backends.length);
        share = { expected, tolerance };
        for (const backend of backends) {
          const n = counts[backend] ?? 0;
          if (n === 0) problems.push(`backend ${backend} never answered in ${answers} requests`);
          else if (Math.abs(n - expected) > tolerance) problems.push(`backend ${backend} answered ${n} of ${answers} (expected ${formatShare(expected)} ± ${tolerance})`);
        }
        break;
      }
      case 'sticky':
        if (seen.length > 1) problems.push(`answers came from ${seen.length} backends (${seen.map((b) => `${b} ${counts[b]}`).join(', ')}); one client should stick to one`);
        break;
      case 'coverage':
        for (const backend of backends) if ((counts[backend] ?? 0) === 0) problems.push(`backend ${backend} never answered in ${answers} requests`);
        break;
      case 'unconstrained':
        break;
    }
  }
  return { ok: problems.length === 0, rule, counts, answers, errors: result.errors, strangers, share, problems, summary: summarize(counts, answers, strangers) };
}

const formatShare = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** At least `minimum` answers, no errors, every answer from `allowed` (UDP, NodePort, DNS, after scale-down). */
export function judgeAnswers(result: DialResult, allowed: readonly string[], tries: number, minimum = 1): SpreadVerdict {
  const verdict = judgeSpread(result, allowed, 'unconstrained', tries);
  const problems = [...verdict.problems];
  if (verdict.answers < minimum && problems.length === 0) problems.push(`${verdict.answers} answers, expected at least ${minimum}`);
  return { ...verdict, ok: problems.length === 0, problems };
}

// ---- IPVS ------------------------------------------------------------------

export interface PersistenceVerdict {
  readonly ok: boolean;
  /** One line: what the table shows for the virtual server. */
  readonly evidence: string;
}

/** The virtual server `key` ("TCP/10.96.0.20:80") is persistent with exactly `seconds` (from /proc with HZ, or ipvsadm). */
export function judgePersistence(table: IpvsTable, key: string, seconds: number): PersistenceVerdict {
  const service = table.services.find((s) => virtualServerKey({ ...s, address: s.address === null ? null : canonicalAddress(s.address) }) === key);
  if (service === undefined) return { ok: false, evidence: `${key} is not in the table` };
  const p = service.persistent;
  if (p === null) return { ok: false, evidence: `${key} ${service.scheduler} is not persistent, expected persistent ${seconds}` };
  if (p.unit !== 'seconds' || p.timeout === null) {
    return { ok: false, evidence: `${key} ${service.scheduler} persistent ${p.timeout ?? '?'} jiffies: the kernel's HZ is unknown, so it cannot be read as seconds` };
  }
  const text = `${key} ${service.scheduler} persistent ${p.timeout} s`;
  return p.timeout === seconds ? { ok: true, evidence: text } : { ok: false, evidence: `${text}, expected persistent ${seconds} s` };
}

export interface DestinationState {
  readonly virtualServer: string;
  readonly realServer: string;
  readonly weight: number;
}

/**
 * Where addresses that should be gone still are: destinations at those addresses (any port)
 * with weight > 0 still get new connections ("active"); at weight 0 they are draining
 * (kube-proxy's graceful termination keeps TCP destinations with connections at weight 0).
 */
export function findRemovedDestinations(table: IpvsTable, removedAddresses: readonly string[]): { active: DestinationState[]; draining: DestinationState[] } {
  const removed = new Set(removedAddresses.map(canonicalAddress));
  const active: DestinationState[] = [];
  const draining: DestinationState[] = [];
  for (const service of table.services) {
    const key = virtualServerKey({ ...service, address: service.address === null ? null : canonicalAddress(service.address) });
    for (const d of service.destinations) {
      const address = canonicalAddress(d.address);
      if (!removed.has(address)) continue;
      const state = { virtualServer: key, realServer: hostPort(address, d.port), weight: d.weight };
      (d.weight > 0 ? active : draining).push(state);
    }
  }
  return { active, draining };
}

/** Virtual servers (keys) that have a destination at one of `addresses` (any port), with their destinations. */
export function virtualServersReaching(table: IpvsTable, addresses: readonly string[]): Map<string, string[]> {
  const wanted = new Set(addresses.map(canonicalAddress));
  const found = new Map<string, string[]>();
  for (const service of table.services) {
    const hits = service.destinations.filter((d) => wanted.has(canonicalAddress(d.address)));
    if (hits.length === 0) continue;
    const key = virtualServerKey({ ...service, address: service.address === null ? null : canonicalAddress(service.address) });
    found.set(key, service.destinations.map((d) => `${hostPort(canonicalAddress(d.address), d.port)} w${d.weight}`));
  }
  return found;
}
