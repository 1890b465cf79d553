// `local-up assert --mode nftables|iptables` (live): kube-proxy has left IPVS, so
// instead of comparing IPVS tables, look on each node for what IPVS mode left behind
// (src/migrate/leftovers.ts) and say how to remove it.
import { hostname } from 'node:os';
import type { ResolvedSettings } from '../../config/resolve.js';
import type { Settings } from '../../config/settings.js';
import { ExitCode, usageError } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import type { Host } from '../../exec/host.js';
import type { Io } from '../../io/io.js';
import { renderJunitXml } from '../../io/junit.js';
import { writeJunitFile } from '../../io/junit.js';
import { jsonText } from '../../io/output.js';
import type { Kubectl } from '../../kube/kubectl.js';
import { DEFAULT_NODE_POD_IMAGE } from '../../kube/node-pod-defaults.js';
import { withNodePod } from '../../kube/node-pod.js';
import { discardLog } from '../../log/run-log.js';
import type { LeftoverCheck } from '../../migrate/leftovers.js';
import { findLeftovers, formatLeftovers } from '../../migrate/leftovers.js';
import { readLeftovers } from '../../migrate/read-node.js';
import type { TargetMode } from '../../migrate/rules.js';
import { loadProvider } from '../../providers/provider.js';
import type { ClusterState as RecordedCluster } from '../../state/state-file.js';
import { providerContext } from '../../steps/cluster.js';
import type { ParsedValues } from '../args.js';
import { flagOption, stringOption } from '../args.js';

async function checkOne(host: Host, name: string, mode: TargetMode): Promise<LeftoverCheck> {
  return findLeftovers(await readLeftovers(host, name), mode);
}

function render(io: Io, values: ParsedValues, checks: readonly LeftoverCheck[]): number {
  const ok = checks.every((c) => c.ok);
  const junitFile = stringOption(values, 'junit');
  if (junitFile !== undefined) {
    writeJunitFile(io.cwd, junitFile, renderJunitXml('local-up assert', checks.map((c) => ({
      name: `ipvs leftovers ${c.node}`,
      seconds: 0,
      cases: [{
        name: `no IPVS leftovers (kube-proxy in ${c.target} mode)`, classname: `leftovers.${c.node}`, seconds: 0,
        outcome: c.ok ? { status: 'passed' as const } : { status: 'failed' as const, message: c.leftovers.map((l) => l.message).join('; '), type: 'ipvs-leftovers', text: formatLeftovers(c) },
      }],
    }))));
  }
  io.out(flagOption(values, 'json') ? jsonText({ ok, nodes: checks }) : checks.map(formatLeftovers).join('\n'));
  return ok ? ExitCode.ok : ExitCode.failed;
}

function assertMode(mode: string): TargetMode {
  if (mode === 'nftables' || mode === 'iptables') return mode;
  throw usageError(`--mode ${mode}: the leftover check is for nftables or iptables`, 'with --mode ipvs, assert compares the IPVS tables');
}

/** --host local: this machine is the node; no cluster access needed. */
export async function assertLocalLeftovers(io: Io, values: ParsedValues, s: Settings, mode: string): Promise<number> {
  const name = stringOption(values, 'node-name') ?? hostname();
  return render(io, values, [await checkOne(new LocalHost(io.runner, s.hostRoot), name, assertMode(mode))]);
}

/** The provider's nodes, or every node through a helper pod (--all-nodes). */
export async function assertClusterLeftovers(io: Io, values: ParsedValues, resolved: ResolvedSettings, kubectl: Kubectl, state: RecordedCluster | null, mode: string, allNodes: boolean): Promise<number> {
  const target = assertMode(mode);
  const onlyNode = stringOption(values, 'node-name');
  const checks: LeftoverCheck[] = [];
  if (allNodes) {
    const image = stringOption(values, 'pod-image') ?? DEFAULT_NODE_POD_IMAGE;
    const names = (await kubectl.nodes()).map((n) => n.name).filter((n) => onlyNode === undefined || n === onlyNode);
    for (const name of names) await withNodePod(kubectl, name, image, async (host) => { checks.push(await checkOne(host, name, target)); });
  } else if (state !== null) {
    const provider = await loadProvider(state.provider);
    const nodes = await provider.nodes(providerContext({ io, resolved, log: discardLog }), state);
    for (const node of nodes.filter((n) => onlyNode === undefined || n.name === onlyNode)) checks.push(await checkOne(node.host, node.name, target));
  }
  if (checks.length === 0) throw usageError(`no node to check${onlyNode === undefined ? '' : ` named ${onlyNode}`}`, 'check --node-name');
  return render(io, values, checks);
}
