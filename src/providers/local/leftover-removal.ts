// What `down` (and compare-modes' switch) does when `kube-proxy --cleanup` leaves
// kube-proxy's state behind. The real kube-proxy 1.34 does: its --cleanup runs the
// iptables proxier's cleanup first (pkg/proxy/iptables/proxier.go CleanupLeftovers), whose
// nat transaction deletes KUBE-MARK-MASQ while the IPVS proxier's KUBE-NODE-PORT and
// KUBE-LOAD-BALANCER still jump to it, and whose filter transaction deletes
// KUBE-PROXY-FIREWALL while the IPVS proxier's INPUT/FORWARD jumps (which lack the conntrack
// match the iptables proxier deletes by) still use it; iptables-restore fails with
// "CHAIN_DEL failed (Device or resource busy)" (seen in the lab, v1.34.11). The IPVS
// proxier's own cleanup (pkg/proxy/ipvs/proxier.go cleanupLeftovers) destroys only the
// IPv4 set names of ipsetInfo, so the IPv6 proxier's KUBE-6-* sets always stay.
//
// planLeftoverRemoval() is pure: from one reading of the host it makes the commands that
// remove exactly what findLeftovers() judged to be kube-proxy's, in the order the kernel
// accepts: per iptables backend and table one atomic `*-restore --noflush` transaction
// (every kube-proxy chain declared, which flushes it; every rule elsewhere that jumps to
// one of them or matches a KUBE-* set deleted; then the chains deleted), then the ipsets
// (a set still used by a rule cannot be destroyed), then kube-ipvs0, then virtual servers.
// The kubelet's chains (KUBELET_CHAINS) and virtual servers that are not kube-proxy's are
// never touched.
import type { Host } from '../../exec/host.js';
import { describeFailure, tail } from '../../exec/runner.js';
import { KUBE_IPVS0 } from '../../ipvs/live.js';
import type { HostNetworkState, LeftoverReport } from './host-state.js';
import { KUBELET_CHAINS, parseIptablesSave } from './host-state.js';

const REMOVE_TIMEOUT_MS = 30_000;

export interface RemovalCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** stdin (the iptables-restore transaction). */
  readonly input?: string;
  /** For messages: "iptables-nft nat: 5 chain(s), 3 rule(s)", "ipset KUBE-CLUSTER-IP". */
  readonly what: string;
}

/** "iptables-nft-save" -> "iptables-nft-restore"; "ip6tables-save" -> "ip6tables-restore". */
export function restoreCommandFor(saveCommand: string): string | null {
  return saveCommand.endsWith('-save') ? `${saveCommand.slice(0, -'-save'.length)}-restore` : null;
}

const jumpTarget = (rule: string): string | undefined => /\s-[jg] (\S+)/.exec(rule)?.[1];
const matchedSets = (rule: string): string[] => [...rule.matchAll(/--match-set (\S+)/g)].map((m) => m[1] ?? '');

/** The iptables-restore text that removes kube-proxy's chains from one saved table, or null when it has none. */
export function iptablesRemovalText(table: { table: string; chains: readonly string[]; rules: readonly { chain: string; rule: string }[] }): { text: string; chains: number; rules: number } | null {
  const doomed = new Set(table.chains.filter((c) => c.startsWith('KUBE-') && !KUBELET_CHAINS.has(c)));
  const unlink = table.rules.filter(({ chain, rule }) => {
    if (doomed.has(chain)) return false; // Flushed with its chain.
    const target = jumpTarget(rule);
    return (target !== undefined && doomed.has(target)) || matchedSets(rule).some((s) => s.startsWith('KUBE-'));
  });
  if (doomed.size === 0 && unlink.length === 0) return null;
  const lines = [
    `*${table.table}`,
    // In a --noflush restore, declaring an existing user chain flushes it (iptables-restore(8)).
    ...[...doomed].map((c) => `:${c} - [0:0]`),
    ...unlink.map(({ rule }) => `-D${rule.slice(2)}`),
    ...[...doomed].map((c) => `-X ${c}`),
    'COMMIT',
  ];
  return { text: `${lines.join('\n')}\n`, chains: doomed.size, rules: unlink.length };
}

const IPVSADM_PROTOCOL: Readonly<Record<string, string>> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

/** The commands that remove what `report` (judged from `state`) lists as kube-proxy's. Pure. */
export function planLeftoverRemoval(state: HostNetworkState, report: LeftoverReport): RemovalCommand[] {
  const proxy = report.leftovers.filter((l) => l.owner === 'kube-proxy');
  const commands: RemovalCommand[] = [];
  if (proxy.some((l) => l.kind === 'iptables-chain' || l.kind === 'iptables-rule')) {
    for (const reading of state.iptablesSaves) {
      const restore = restoreCommandFor(reading.command);
      if (reading.text === null || restore === null) continue;
      for (const table of parseIptablesSave(reading.text)) {
        const removal = iptablesRemovalText(table);
        if (removal === null) continue;
        commands.push({ file: restore, args: ['--noflush'], input: removal.text, what: `${restore.replace(/-restore$/, '')} ${table.table}: ${removal.chains} chain(s), ${removal.rules} rule(s) outside them` });
      }
    }
  }
  for (const set of proxy.filter((l) => l.kind === 'ipset')) commands.push({ file: 'ipset', args: ['destroy', set.name], what: `ipset ${set.name}` });
  if (proxy.some((l) => l.kind === 'dummy-device')) commands.push({ file: 'ip', args: ['link', 'delete', KUBE_IPVS0], what: KUBE_IPVS0 });
  for (const vs of proxy.filter((l) => l.kind === 'ipvs-virtual-server')) {
    const slash = vs.name.indexOf('/');
    const flag = IPVSADM_PROTOCOL[vs.name.slice(0, slash)];
    if (flag !== undefined) commands.push({ file: 'ipvsadm', args: ['--delete-service', flag, vs.name.slice(slash + 1)], what: `IPVS virtual server ${vs.name}` });
  }
  return commands;
}

export interface RemovalOutcome {
  readonly what: string;
  readonly command: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs the planned commands in order through the host (root there); a failure does not stop the rest. */
export async function runLeftoverRemoval(host: Host, commands: readonly RemovalCommand[]): Promise<RemovalOutcome[]> {
  const outcomes: RemovalOutcome[] = [];
  for (const c of commands) {
    const result = await host.run(c.file, c.args, { timeoutMs: REMOVE_TIMEOUT_MS, env: { LC_ALL: 'C' }, ...(c.input === undefined ? {} : { input: c.input }) });
    const ok = result.exitCode === 0;
    outcomes.push({ what: c.what, command: result.command, ok, detail: ok ? '' : `${describeFailure(result, REMOVE_TIMEOUT_MS)}: ${tail(result.stderr || result.stdout, 3).replaceAll('\n', ' ')}` });
  }
  return outcomes;
}

export function formatRemoval(outcomes: readonly RemovalOutcome[]): string[] {
  return outcomes.map((o) => (o.ok ? `  removed ${o.what}` : `  could not remove ${o.what}: ${o.command}: ${o.detail}`));
}
