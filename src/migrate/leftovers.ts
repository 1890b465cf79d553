// What IPVS mode leaves on a node after kube-proxy has moved to nftables or
// iptables: virtual servers, the kube-ipvs0 device, kube-proxy's IPVS ipsets and
// IPVS-mode iptables chains. Pure: a reading in, findings with the way to remove
// each out. Names are kube-proxy 1.34.11's (pkg/proxy/ipvs/ipset.go and proxier.go).
import type { TargetMode } from './rules.js';
import { SOURCES } from './sources.js';

/** kube-proxy's IPVS-mode ipsets (pkg/proxy/ipvs/ipset.go, ipsetInfo in proxier.go). */
export const IPVS_IPSETS = [
  'KUBE-LOOP-BACK', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL', 'KUBE-LOAD-BALANCER', 'KUBE-LOAD-BALANCER-LOCAL',
  'KUBE-LOAD-BALANCER-FW', 'KUBE-LOAD-BALANCER-SOURCE-IP', 'KUBE-LOAD-BALANCER-SOURCE-CIDR', 'KUBE-NODE-PORT-TCP', 'KUBE-NODE-PORT-LOCAL-TCP',
  'KUBE-NODE-PORT-UDP', 'KUBE-NODE-PORT-LOCAL-UDP', 'KUBE-NODE-PORT-SCTP-HASH', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'KUBE-HEALTH-CHECK-NODE-PORT', 'KUBE-IPVS-IPS',
] as const;

/**
 * The IPv6 proxier's names for the same sets: "KUBE-" becomes "KUBE-6-", cut to ipset's 31 characters
 * (pkg/proxy/ipvs/ipset.go NewIPSet). NOTE: kube-proxy's own cleanup (cleanupLeftovers, run by
 * `--cleanup` and by nftables mode at start) destroys only the IPv4 names; the lab saw every KUBE-6-*
 * set survive both, so they are removed by hand.
 */
export const IPVS_IPSETS_IPV6: readonly string[] = IPVS_IPSETS.map((name) => name.replace(/^KUBE-/, 'KUBE-6-').slice(0, 31));

export type IptablesTable = 'nat' | 'filter';

/** IPVS mode's chains (pkg/proxy/ipvs/proxier.go iptablesCleanupChains). */
export const IPVS_CHAINS: readonly { readonly table: IptablesTable; readonly chain: string }[] = [
  { table: 'nat', chain: 'KUBE-SERVICES' }, { table: 'nat', chain: 'KUBE-POSTROUTING' }, { table: 'nat', chain: 'KUBE-NODE-PORT' },
  { table: 'nat', chain: 'KUBE-LOAD-BALANCER' }, { table: 'nat', chain: 'KUBE-MARK-MASQ' }, { table: 'filter', chain: 'KUBE-FORWARD' },
  { table: 'filter', chain: 'KUBE-NODE-PORT' }, { table: 'filter', chain: 'KUBE-PROXY-FIREWALL' }, { table: 'filter', chain: 'KUBE-SOURCE-RANGES-FIREWALL' },
  { table: 'filter', chain: 'KUBE-IPVS-FILTER' }, { table: 'filter', chain: 'KUBE-IPVS-OUT-FILTER' },
];

/** Chains iptables mode makes itself under the same names (pkg/proxy/iptables/proxier.go): not leftovers when iptables runs. */
const IPTABLES_MODE_CHAINS: readonly { readonly table: IptablesTable; readonly chain: string }[] = [
  { table: 'nat', chain: 'KUBE-SERVICES' }, { table: 'nat', chain: 'KUBE-POSTROUTING' }, { table: 'nat', chain: 'KUBE-MARK-MASQ' },
  { table: 'filter', chain: 'KUBE-FORWARD' }, { table: 'filter', chain: 'KUBE-PROXY-FIREWALL' }, { table: 'filter', chain: 'KUBE-SERVICES' },
];

/** One node as read; null: could not be read (the reason is in `unread`). */
export interface LeftoverReading {
  readonly node: string;
  /** Virtual servers in /proc/net/ip_vs; 0 when ip_vs is not loaded. */
  readonly virtualServers: number | null;
  readonly kubeIpvs0: boolean | null;
  readonly ipsets: readonly string[] | null;
  readonly chains: readonly { readonly table: IptablesTable; readonly chain: string }[] | null;
  readonly unread: readonly string[];
}

export interface Leftover {
  readonly kind: 'ipvs-virtual-servers' | 'kube-ipvs0' | 'ipvs-ipsets' | 'ipvs-chains';
  readonly message: string;
  /** How to remove it by hand (`kube-proxy --cleanup` removes all of them). */
  readonly remove: string;
}

export interface LeftoverCheck {
  readonly node: string;
  readonly target: TargetMode;
  readonly ok: boolean;
  readonly leftovers: readonly Leftover[];
  readonly unread: readonly string[];
  readonly source: string;
}

/** The IPVS mode's state still on the node when kube-proxy runs in `target` mode. */
export function findLeftovers(reading: LeftoverReading, target: TargetMode): LeftoverCheck {
  const leftovers: Leftover[] = [];
  if ((reading.virtualServers ?? 0) > 0) {
    leftovers.push({ kind: 'ipvs-virtual-servers', message: `${reading.virtualServers} IPVS virtual servers are still in the kernel`, remove: 'ipvsadm -C (clears every virtual server)' });
  }
  if (reading.kubeIpvs0 === true) {
    leftovers.push({ kind: 'kube-ipvs0', message: 'kube-ipvs0 still exists: every Service address bound to it stays a local address of the node', remove: 'ip link delete kube-ipvs0' });
  }
  const sets = (reading.ipsets ?? []).filter((name) => (IPVS_IPSETS as readonly string[]).includes(name));
  if (sets.length > 0) {
    leftovers.push({ kind: 'ipvs-ipsets', message: `IPVS-mode ipsets: ${sets.join(', ')}`, remove: `ipset destroy NAME for each, after the chains that use them are gone` });
  }
  const sets6 = (reading.ipsets ?? []).filter((name) => IPVS_IPSETS_IPV6.includes(name));
  if (sets6.length > 0) {
    leftovers.push({ kind: 'ipvs-ipsets', message: `IPVS-mode IPv6 ipsets: ${sets6.join(', ')}`, remove: 'ipset destroy NAME for each (kube-proxy --cleanup does not remove the KUBE-6-* sets)' });
  }
  const owned = target === 'iptables' ? IPTABLES_MODE_CHAINS : [];
  const chains = (reading.chains ?? []).filter((c) => IPVS_CHAINS.some((i) => i.table === c.table && i.chain === c.chain) && !owned.some((o) => o.table === c.table && o.chain === c.chain));
  if (chains.length > 0) {
    leftovers.push({
      kind: 'ipvs-chains',
      message: `IPVS-mode iptables chains: ${chains.map((c) => `${c.table}/${c.chain}`).join(', ')}`,
      remove: 'delete the jumps to them, then iptables -t TABLE -F CHAIN and iptables -t TABLE -X CHAIN',
    });
  }
  return { node: reading.node, target, ok: leftovers.length === 0, leftovers, unread: reading.unread, source: SOURCES.ipvsCleanup };
}

/** "KUBE-FOO" chains of one table from `iptables-save -t TABLE` (":KUBE-FOO - [0:0]" lines). */
export function chainsOfSave(text: string, table: IptablesTable): { table: IptablesTable; chain: string }[] {
  return [...text.matchAll(/^:(KUBE-[A-Z0-9-]+) /gm)].map((m) => ({ table, chain: m[1] as string }));
}

/** Names from `ipset list -n` (one per line), or from the "Name: X" lines of a full `ipset list`. */
export function ipsetNames(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const named = lines.filter((l) => l.startsWith('Name: ')).map((l) => l.slice('Name: '.length).trim());
  return named.length > 0 ? named : lines;
}

/** The text report for one node. */
export function formatLeftovers(check: LeftoverCheck): string {
  const head = check.ok
    ? `OK: no IPVS leftovers on node ${check.node} (kube-proxy in ${check.target} mode)`
    : `FAIL: IPVS leftovers on node ${check.node} (kube-proxy in ${check.target} mode)`;
  const lines = [head];
  for (const l of check.leftovers) lines.push(`FAIL ${l.kind}: ${l.message}\n  remove: ${l.remove}`);
  if (!check.ok) {
    lines.push(`  or remove all of them at once: stop kube-proxy, run \`kube-proxy --cleanup\` on the node (it also removes ${check.target === 'iptables' ? "iptables mode's own rules: start kube-proxy again after it" : 'every mode\'s rules'}), then start kube-proxy`);
    lines.push(`  source: ${check.source}`);
  }
  for (const u of check.unread) lines.push(`note: not checked: ${u}`);
  return `${lines.join('\n')}\n`;
}
