// Reads one node through a Host (this machine, a kind node, a helper pod): the facts
// migrate-check needs and the IPVS leftovers `assert --mode nftables|iptables` looks
// for. Whatever cannot be read is said in `unread`, never guessed.
import type { Host } from '../exec/host.js';
import { tail } from '../exec/runner.js';
import { PROC_IP_VS, readNodeAddresses, readNodeIpvs } from '../ipvs/live.js';
import { isLocalUpError } from '../errors.js';
import type { LeftoverReading } from './leftovers.js';
import { chainsOfSave, ipsetNames } from './leftovers.js';
import type { NodeFacts } from './rules.js';

const NODE_COMMAND_TIMEOUT_MS = 20_000;

async function attempt<T>(what: string, unread: string[], read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (!isLocalUpError(error)) throw error;
    unread.push(`${what}: ${error.message}`);
    return null;
  }
}

/** `nft --version`'s output, or null when nft is not there (reason in unread). */
async function readNftVersion(host: Host, unread: string[]): Promise<string | null> {
  const result = await host.run('nft', ['--version'], { timeoutMs: NODE_COMMAND_TIMEOUT_MS });
  if (result.exitCode === 0) return result.stdout.trim();
  unread.push(`nft version: ${result.notFound ? 'nft is not installed' : `${result.command} exited ${result.exitCode ?? result.signal ?? '?'}: ${tail(result.stderr, 2)}`}`);
  return null;
}

export async function readNodeFacts(host: Host, name: string, internalIPs: readonly string[]): Promise<NodeFacts> {
  const unread: string[] = [];
  const release = (await host.readFile('/proc/sys/kernel/osrelease'))?.trim() ?? null;
  if (release === null) unread.push('kernel release: /proc/sys/kernel/osrelease is not readable');
  const reading = await attempt('IPVS table', unread, () => readNodeIpvs(host));
  const addresses = await attempt('addresses', unread, () => readNodeAddresses(host));
  return {
    name,
    internalIPs,
    addresses: addresses?.node ?? null,
    kubeIpvs0: addresses?.kubeIpvs0 ?? null,
    table: reading?.table ?? null,
    kernelRelease: release,
    nftVersion: await readNftVersion(host, unread),
    unread,
  };
}

/** What IPVS mode may have left on the node. */
export async function readLeftovers(host: Host, name: string): Promise<LeftoverReading> {
  const unread: string[] = [];
  const proc = await host.readFile(PROC_IP_VS);
  const virtualServers = proc === null ? 0 : proc.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM) /.test(l)).length;
  const link = await host.run('ip', ['-o', 'link', 'show'], { timeoutMs: NODE_COMMAND_TIMEOUT_MS });
  let kubeIpvs0: boolean | null = null;
  if (link.exitCode === 0) kubeIpvs0 = /^\d+:\s+kube-ipvs0[:@]/m.test(link.stdout);
  else unread.push(`kube-ipvs0: ${link.command} exited ${link.exitCode ?? link.signal ?? '?'}: ${tail(link.stderr, 2)}`);
  const sets = await host.run('ipset', ['list', '-n'], { timeoutMs: NODE_COMMAND_TIMEOUT_MS });
  let ipsets: string[] | null = null;
  if (sets.exitCode === 0) ipsets = ipsetNames(sets.stdout);
  else unread.push(`ipsets: ${sets.notFound ? 'ipset is not installed' : `${sets.command} exited ${sets.exitCode ?? sets.signal ?? '?'}: ${tail(sets.stderr, 2)}`}`);
  let chains: LeftoverReading['chains'] = [];
  for (const table of ['nat', 'filter'] as const) {
    const save = await host.run('iptables-save', ['-t', table], { timeoutMs: NODE_COMMAND_TIMEOUT_MS });
    if (save.exitCode !== 0) {
      unread.push(`iptables chains: ${save.notFound ? 'iptables-save is not installed' : `${save.command} exited ${save.exitCode ?? save.signal ?? '?'}: ${tail(save.stderr, 2)}`}`);
      chains = null;
      break;
    }
    chains = [...chains, ...chainsOfSave(save.stdout, table)];
  }
  return { node: name, virtualServers, kubeIpvs0, ipsets, chains, unread };
}
