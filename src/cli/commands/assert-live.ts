// `local-up assert` live mode: the cluster through kubectl, each node's table
// through the provider's hosts, this machine, or a short-lived helper pod.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { KubeVersion } from '../../config/kube-version.js';
import { parseKubeVersion } from '../../config/kube-version.js';
import type { ResolvedSettings } from '../../config/resolve.js';
import { ExitCode, usageError } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import type { Host } from '../../exec/host.js';
import type { NodeCheck } from '../../ipvs/diff.js';
import { assertLiveNode } from '../../ipvs/live.js';
import { formatIpvsReport, ipvsCheckJson, renderJunit } from '../../ipvs/report.js';
import type { IpFamily } from '../../kube/ip.js';
import { DEFAULT_NODE_POD_IMAGE } from '../../kube/node-pod-defaults.js';
import { withNodePod } from '../../kube/node-pod.js';
import type { KubeNode } from '../../kube/kubectl.js';
import { readClusterJson } from '../../kube/read.js';
import { discardLog } from '../../log/run-log.js';
import { loadProvider } from '../../providers/provider.js';
import { readClusterState } from '../../state/state-file.js';
import { assertOptionsOf, kubectlForState, providerContext } from '../../steps/cluster.js';
import { flagOption, stringOption } from '../args.js';
import type { ParsedCommandLine } from '../args.js';
import type { Io } from '../../io/io.js';
import { jsonText } from '../../io/output.js';
import { familiesFor } from './ipvs-expect.js';
import { writeJunitFile } from '../../io/junit.js';

const OFFLINE_ONLY = ['node-ip', 'hz', 'format'] as const;

export async function runLive(io: Io, commandLine: ParsedCommandLine, resolved: ResolvedSettings): Promise<number> {
  const { values } = commandLine;
  const s = resolved.values;
  for (const flag of OFFLINE_ONLY) {
    if (values[flag] !== undefined) throw usageError(`--${flag} only applies to offline mode (with --ipvs FILE --cluster FILE)`, 'live mode reads the node addresses and HZ from each node itself');
  }
  const hostMode = stringOption(values, 'host');
  const allNodes = flagOption(values, 'all-nodes');
  if (hostMode !== undefined && hostMode !== 'local') throw usageError(`--host ${JSON.stringify(hostMode)} is not valid`, 'the only value is local (this machine); use --all-nodes to reach every node through helper pods');
  if (hostMode !== undefined && allNodes) throw usageError('--host local and --all-nodes exclude each other', 'choose one way to reach the nodes');
  const onlyNode = stringOption(values, 'node-name');
  const families = familiesFor(values, s.ipFamily);
  const junitFile = stringOption(values, 'junit');
  // kube-proxy has left IPVS (--mode nftables|iptables): look for what IPVS mode left behind instead.
  const leftovers = s.proxyMode === 'ipvs' ? null : await import('./assert-leftovers.js');
  if (leftovers !== null && s.proxyMode !== 'ipvs' && hostMode === 'local') return leftovers.assertLocalLeftovers(io, values, s, s.proxyMode);
  const state = await readClusterState(s.stateDir, s.clusterName);
  const kubeconfig = resolve(io.cwd, stringOption(values, 'kubeconfig') ?? state?.kubeconfig ?? s.kubeconfigOut);
  if (!existsSync(kubeconfig)) {
    throw usageError(`kubeconfig ${kubeconfig} does not exist`, 'give the cluster with --kubeconfig FILE, bring one up with `local-up up`, or check offline with --ipvs FILE --cluster FILE');
  }
  if (hostMode === undefined && !allNodes && state === null) {
    throw usageError(`kube-local-up has no record of a cluster named "${s.clusterName}", so it does not know how to reach its nodes`, 'for a cluster kube-local-up did not create use --all-nodes (a helper pod per node) or --host local (this machine is the node)');
  }
  const kubectl = kubectlForState(io, s, kubeconfig);
  if (leftovers !== null && s.proxyMode !== 'ipvs') return leftovers.assertClusterLeftovers(io, values, resolved, kubectl, state, s.proxyMode, allNodes);
  const cluster = readClusterJson(await kubectl.clusterJson(), 'kubectl get services,endpointslices -A -o json');
  const kubeNodes = await kubectl.nodes();
  const options = { ...assertOptionsOf(s), families: families as readonly IpFamily[] };
  const checks: NodeCheck[] = [];
  const seconds: Record<string, number> = {};
  const checkOne = async (name: string, host: Host) => {
    const started = performance.now();
    checks.push(await assertLiveNode(host, name, cluster, { ...options, ...nodeModelFacts(kubeNodes.find((n) => n.name === name), resolved) }));
    seconds[name] = (performance.now() - started) / 1000;
  };
  const pick = (names: readonly string[]): string[] => {
    if (onlyNode === undefined) return [...names];
    if (!names.includes(onlyNode)) throw usageError(`--node-name ${onlyNode}: the cluster has no such node`, `its nodes: ${names.join(', ') || '(none)'}`);
    return [onlyNode];
  };

  if (allNodes) {
    const image = stringOption(values, 'pod-image') ?? DEFAULT_NODE_POD_IMAGE;
    for (const name of pick(kubeNodes.map((n) => n.name))) {
      await withNodePod(kubectl, name, image, (host) => checkOne(name, host));
    }
  } else if (hostMode === 'local') {
    const names = kubeNodes.map((n) => n.name);
    const name = onlyNode ?? (names.length === 1 ? (names[0] as string) : hostname());
    await checkOne(name, new LocalHost(io.runner, s.hostRoot));
  } else if (state !== null) {
    const provider = await loadProvider(state.provider);
    const nodes = await provider.nodes(providerContext({ io, resolved, log: discardLog }), { ...state, kubeconfig });
    const wanted = pick(nodes.map((n) => n.name));
    for (const node of nodes.filter((n) => wanted.includes(n.name))) await checkOne(node.name, node.host);
  }

  const ok = checks.every((c) => c.diff.ok);
  if (junitFile !== undefined) writeJunitFile(io.cwd, junitFile, renderJunit(checks, { timeSeconds: seconds }));
  io.out(flagOption(values, 'json') ? jsonText({ ok, kubeconfig, nodes: checks.map(ipvsCheckJson) }) : checks.map(formatIpvsReport).join('\n'));
  return ok ? ExitCode.ok : ExitCode.failed;
}

/**
 * What the model needs to know of one node, as offline `assert` and `ipvs expect --node-zone
 * --k8s-version` take it: its zone label (zone hints apply only with it), the kube-proxy release
 * (KUBE_VERSION when given by flag, environment or .env; else the node's kubelet version, which
 * kube-proxy matches in a cluster kube-local-up or kubeadm made; else the default), and its
 * InternalIPs (nodePortAddresses "primary").
 */
export function nodeModelFacts(node: KubeNode | undefined, resolved: Pick<ResolvedSettings, 'values' | 'sources'>): { zone: string | null; kubeVersion: KubeVersion; primaryAddresses: readonly string[] } {
  const explicit = resolved.sources.kubeVersion.source !== 'default';
  // "v1.29.15+k3s1", "v1.30.0-eks-1a2b3c": the release is what comes before a build suffix.
  const kubelet = node?.kubeletVersion === null || node?.kubeletVersion === undefined ? null : parseKubeVersion(node.kubeletVersion.replace(/[-+].*$/, ''));
  return {
    zone: node?.zone ?? null,
    kubeVersion: explicit || kubelet === null ? resolved.values.kubeVersion : kubelet,
    primaryAddresses: node?.internalIPs ?? [],
  };
}
