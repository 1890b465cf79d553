// The traffic and IPVS checks smoke runs, written against two small seams so
// the same code runs in a cluster and in the lab VM: a Dialer (the client pod's
// netexec /dial, or this machine) and a TableSource per node (a node's
// /proc/net/ip_vs through its Host). Each returns an outcome with its evidence.
import type { IpvsTable } from '../ipvs/model.js';
import { pollUntil } from '../exec/wait.js';
import type { DestinationState, SpreadExpectation, SpreadVerdict } from './analysis.js';
import { findRemovedDestinations, judgeAnswers, judgeSpread } from './analysis.js';
import type { DialRequest, DialResult, Dialer } from './dial.js';
import { describeTarget } from './dial.js';

export interface CheckOutcome<T> {
  readonly ok: boolean;
  /** One line: why it passed or failed. */
  readonly message: string;
  /** Lines of evidence for the report. */
  readonly evidence: readonly string[];
  readonly data: T;
}

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export type Target = Omit<DialRequest, 'tries'>;

function verdictEvidence(dialer: Dialer, request: DialRequest, verdict: SpreadVerdict): string[] {
  const lines = [`from ${dialer.description}: ${describeTarget(request)}, ${request.tries} request${request.tries === 1 ? '' : 's'} (a new connection or socket each)`, verdict.summary];
  if (verdict.share !== null) lines.push(`each backend must answer ${formatNumber(verdict.share.expected)} ± ${verdict.share.tolerance} times`);
  for (const problem of verdict.problems) lines.push(`problem: ${problem}`);
  return lines;
}

const formatNumber = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Sends `tries` requests and judges their spread over `backends` by the scheduler's rule. */
export async function checkSpread(
  dialer: Dialer,
  target: Target,
  backends: readonly string[],
  expectation: SpreadExpectation,
  tries: number,
): Promise<CheckOutcome<{ result: DialResult; verdict: SpreadVerdict }>> {
  const request = { ...target, tries };
  const result = await dialer.dial(request);
  const verdict = judgeSpread(result, backends, expectation.rule, tries);
  const evidence = [...verdictEvidence(dialer, request, verdict), `rule: ${expectation.rule} (${expectation.why})`];
  const rule = verdict.share === null ? expectation.rule : `${expectation.rule}: each ${formatNumber(verdict.share.expected)} ± ${verdict.share.tolerance}`;
  const message = verdict.ok ? `${verdict.summary} (${rule})` : (verdict.problems[0] ?? 'failed');
  return { ok: verdict.ok, message, evidence, data: { result, verdict } };
}

/** Sends `tries` requests; every one must be answered by one of `allowed`. */
export async function checkAnswers(
  dialer: Dialer,
  target: Target,
  allowed: readonly string[],
  tries: number,
): Promise<CheckOutcome<{ result: DialResult; verdict: SpreadVerdict }>> {
  const request = { ...target, tries };
  const result = await dialer.dial(request);
  const verdict = judgeAnswers(result, allowed, tries, tries);
  const message = verdict.ok ? `${verdict.answers} of ${tries} requests answered by ${[...new Set(result.responses)].join(', ')}` : (verdict.problems[0] ?? 'failed');
  return { ok: verdict.ok, message, evidence: verdictEvidence(dialer, request, verdict), data: { result, verdict } };
}

/** Asks once per interval until one request is answered (kube-proxy may still be programming a new Service). */
export async function waitForAnswer(dialer: Dialer, target: Target, options: PollOptions): Promise<CheckOutcome<{ elapsedMs: number; last: DialResult }>> {
  const now = options.now ?? Date.now;
  const started = now();
  const last = await pollUntil(
    async () => {
      const result = await dialer.dial({ ...target, tries: 1 });
      return { done: result.responses.length > 0 && result.errors.length === 0, value: result };
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, ...(options.signal === undefined ? {} : { signal: options.signal }), now },
  );
  const elapsedMs = now() - started;
  const what = describeTarget({ ...target });
  if (last.done) return { ok: true, message: `${what} answered after ${seconds(elapsedMs)}`, evidence: [`first answer from ${last.value.responses[0] ?? '?'} after ${seconds(elapsedMs)}`], data: { elapsedMs, last: last.value } };
  return {
    ok: false,
    message: `${what} did not answer within ${seconds(options.timeoutMs)}`,
    evidence: [`last try: ${last.value.errors[0] ?? 'no answer'}`],
    data: { elapsedMs, last: last.value },
  };
}

/** One node's IPVS table, read afresh on every call. */
export interface TableSource {
  readonly node: string;
  read(): Promise<IpvsTable>;
}

export interface NodeRemoval {
  readonly node: string;
  /** Removed backends that still have weight > 0 (still scheduled). */
  readonly active: readonly DestinationState[];
  /** Removed backends at weight 0 (draining: allowed). */
  readonly draining: readonly DestinationState[];
}

/**
 * Polls every node's table until no destination at a removed address has weight > 0 (gone, or
 * draining at weight 0), or the bound passes. The verdict names what is still scheduled where.
 */
export async function waitForRemoval(
  sources: readonly TableSource[],
  removedAddresses: readonly string[],
  options: PollOptions,
): Promise<CheckOutcome<{ elapsedMs: number; nodes: readonly NodeRemoval[] }>> {
  const now = options.now ?? Date.now;
  const started = now();
  const last = await pollUntil(
    async () => {
      const nodes: NodeRemoval[] = [];
      for (const source of sources) nodes.push({ node: source.node, ...findRemovedDestinations(await source.read(), removedAddresses) });
      return { done: nodes.every((n) => n.active.length === 0), value: nodes };
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, ...(options.signal === undefined ? {} : { signal: options.signal }), now },
  );
  const elapsedMs = now() - started;
  const evidence = [`removed backends: ${removedAddresses.join(', ')}; bound ${seconds(options.timeoutMs)}`];
  for (const node of last.value) {
    if (node.active.length === 0 && node.draining.length === 0) evidence.push(`node ${node.node}: no destination at a removed address`);
    for (const d of node.active) evidence.push(`node ${node.node}: ${d.realServer} still has weight ${d.weight} on ${d.virtualServer}`);
    for (const d of node.draining) evidence.push(`node ${node.node}: ${d.realServer} draining at weight 0 on ${d.virtualServer}`);
  }
  if (last.done) {
    return { ok: true, message: `removed backends left IPVS (or drain at weight 0) on ${sources.length} node${sources.length === 1 ? '' : 's'} after ${seconds(elapsedMs)}`, evidence, data: { elapsedMs, nodes: last.value } };
  }
  const stuck = last.value.filter((n) => n.active.length > 0);
  const first = stuck[0]?.active[0];
  return {
    ok: false,
    message: `after ${seconds(options.timeoutMs)}, ${first === undefined ? 'removed backends' : `${first.realServer} on ${first.virtualServer}`} still gets new connections on node${stuck.length === 1 ? '' : 's'} ${stuck.map((n) => n.node).join(', ')}`,
    evidence,
    data: { elapsedMs, nodes: last.value },
  };
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
