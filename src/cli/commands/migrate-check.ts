// `local-up migrate-check`: what behaves differently when kube-proxy leaves IPVS.
// Reads the live cluster (kubectl), kube-proxy's configuration (its kube-system
// ConfigMap, else the local provider's file) and version, and each node (IPVS table,
// addresses, kernel, nft) through the same hosts as `assert`; the rules are pure
// (src/migrate/rules.ts).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { readMigrationInput } from '../../compare/live-input.js';
import { ExitCode, usageError } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import type { Host } from '../../exec/host.js';
import { writeJunitFile } from '../../io/junit.js';
import { jsonText } from '../../io/output.js';
import type { KubeNode } from '../../kube/kubectl.js';
import { DEFAULT_NODE_POD_IMAGE, NODE_POD_NAMESPACE } from '../../kube/node-pod-defaults.js';
import { withNodePod } from '../../kube/node-pod.js';
import { discardLog } from '../../log/run-log.js';
import { readNodeFacts } from '../../migrate/read-node.js';
import { formatMigrationReport, renderMigrationJunit } from '../../migrate/report.js';
import type { NodeFacts, TargetMode } from '../../migrate/rules.js';
import { TARGET_MODES, checkMigration } from '../../migrate/rules.js';
import { loadProvider } from '../../providers/provider.js';
import { readClusterState } from '../../state/state-file.js';
import { kubectlForState, providerContext } from '../../steps/cluster.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--to nftables|iptables] [--kubeconfig FILE] [--host local | --all-nodes] [--node-name NAME] [--json] [--junit FILE]',
  description: `Lists what behaves differently once kube-proxy leaves IPVS for nftables (default) or
iptables, per Service, per node and for kube-proxy itself, each with its reason and the
kube-proxy source that says so: endpoint choice (IPVS schedulers and their flags against a
random pick), ClientIP affinity and its timeout, IPVS-only settings that stop applying
(ipvs.* timeouts and sync periods, excludeCIDRs, strictARP), Service addresses bound on
kube-ipvs0 (ARP answers, host ports), NodePorts on addresses the new mode's default
nodePortAddresses leaves out or on 127.0.0.1, the IPVS state the switch leaves or flushes,
and what the target mode needs from each node (kernel, nft).

Reads the cluster with kubectl (--kubeconfig, default: the state file's, else KUBECONFIG_OUT),
kube-proxy's configuration from the kube-system/kube-proxy ConfigMap (config.conf, as kubeadm
and kind write it) or, for a cluster the local provider made, its kube-proxy.yaml; its version
from the kube-proxy DaemonSet's image, else the state file, else the API server's version (said
so in the report). Nodes are reached like \`assert\`: the provider, --host local, or --all-nodes
(a short-lived host-network pod per node in ${NODE_POD_NAMESPACE}). What could not be read is said,
never guessed.

Exit status: 0 no behaviour change found (notes only), 1 the switch changes behaviour or is
blocked (read the CHANGE and BLOCKER lines), 2 bad usage, 3 the cluster cannot be read.
With --json: {"target", "ok", "counts": {"blocker", "change", "info"}, "findings": [{"rule",
"severity", "scope", "subject", "message", "source"}], "inputs"}. With --junit FILE: one
testcase per subject, failed when it has a blocker or a change.`,
  options: {
    to: { type: 'string', value: 'MODE', description: 'the mode kube-proxy moves to: nftables (default) or iptables' },
    kubeconfig: { type: 'string', value: 'FILE', description: "the cluster's kubeconfig (default: the state file's, else KUBECONFIG_OUT)" },
    host: { type: 'string', value: 'local', description: 'read the node on this machine (the node kube-proxy runs on)' },
    'all-nodes': { type: 'boolean', description: 'read every node through a short-lived host-network pod (clusters up did not create)' },
    'node-name': { type: 'string', value: 'NAME', description: 'only this node (with --host local: the name of this machine\'s node)' },
    'pod-image': { type: 'string', value: 'IMAGE', description: `--all-nodes: the helper pod's image (needs cat, ip; default ${DEFAULT_NODE_POD_IMAGE})` },
    json: { type: 'boolean', description: 'print the report as JSON' },
    junit: { type: 'string', value: 'FILE', description: 'write the report as JUnit XML to FILE' },
  },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const resolved = settingsFor(io, commandLine);
    const s = resolved.values;
    const toText = stringOption(values, 'to') ?? 'nftables';
    if (!(TARGET_MODES as readonly string[]).includes(toText)) throw usageError(`--to ${JSON.stringify(toText)} is not a mode kube-proxy can move to from IPVS`, `choose ${TARGET_MODES.join(' or ')}`);
    const target = toText as TargetMode;
    const hostMode = stringOption(values, 'host');
    const allNodes = flagOption(values, 'all-nodes');
    if (hostMode !== undefined && hostMode !== 'local') throw usageError(`--host ${JSON.stringify(hostMode)} is not valid`, 'the only value is local (this machine)');
    if (hostMode !== undefined && allNodes) throw usageError('--host local and --all-nodes exclude each other', 'choose one way to reach the nodes');
    const onlyNode = stringOption(values, 'node-name');
    const state = await readClusterState(s.stateDir, s.clusterName);
    const kubeconfig = resolve(io.cwd, stringOption(values, 'kubeconfig') ?? state?.kubeconfig ?? s.kubeconfigOut);
    if (!existsSync(kubeconfig)) throw usageError(`kubeconfig ${kubeconfig} does not exist`, 'give the cluster with --kubeconfig FILE, or bring one up with `local-up up`');
    if (hostMode === undefined && !allNodes && state === null) {
      throw usageError(`kube-local-up has no record of a cluster named "${s.clusterName}", so it does not know how to reach its nodes`, 'for a cluster kube-local-up did not create use --all-nodes (a helper pod per node) or --host local (this machine is the node)');
    }

    const kubectl = kubectlForState(io, s, kubeconfig);
    const kubeNodes = await kubectl.nodes();

    const nodes: NodeFacts[] = [];
    const internalIPs = (name: string): readonly string[] => kubeNodes.find((n) => n.name === name)?.internalIPs ?? [];
    const pick = (names: readonly string[]): string[] => {
      if (onlyNode === undefined) return [...names];
      if (!names.includes(onlyNode)) throw usageError(`--node-name ${onlyNode}: the cluster has no such node`, `its nodes: ${names.join(', ') || '(none)'}`);
      return [onlyNode];
    };
    const readOne = async (name: string, host: Host) => {
      nodes.push(await readNodeFacts(host, name, internalIPs(name)));
    };
    if (allNodes) {
      const image = stringOption(values, 'pod-image') ?? DEFAULT_NODE_POD_IMAGE;
      for (const name of pick(kubeNodes.map((n) => n.name))) await withNodePod(kubectl, name, image, (host) => readOne(name, host));
    } else if (hostMode === 'local') {
      const name = onlyNode ?? (kubeNodes.length === 1 ? (kubeNodes[0] as KubeNode).name : hostname());
      await readOne(name, new LocalHost(io.runner, s.hostRoot));
    } else if (state !== null) {
      const provider = await loadProvider(state.provider);
      const found = await provider.nodes(providerContext({ io, resolved, log: discardLog }), { ...state, kubeconfig });
      const wanted = pick(found.map((n) => n.name));
      for (const n of found.filter((x) => wanted.includes(x.name))) await readOne(n.name, n.host);
    }

    const report = checkMigration(await readMigrationInput(kubectl, state, target, nodes));
    const junitFile = stringOption(values, 'junit');
    if (junitFile !== undefined) writeJunitFile(io.cwd, junitFile, renderMigrationJunit(report));
    io.out(flagOption(values, 'json') ? jsonText(report) : formatMigrationReport(report));
    return report.ok ? ExitCode.ok : ExitCode.failed;
  },
};
