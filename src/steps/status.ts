// `status`: what kube-local-up created, whether it still exists, each node's
// kube-proxy mode and a fresh IPVS assertion summary. Exit 0 when everything
// holds (or nothing is recorded), 1 when something recorded is wrong.
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { jsonText, table } from '../io/output.js';
import { ExitCode, isLocalUpError } from '../errors.js';
import type { NodeCheck } from '../ipvs/diff.js';
import { ipvsCheckJson } from '../ipvs/report.js';
import { discardLog } from '../log/run-log.js';
import { loadProvider } from '../providers/provider.js';
import { readClusterState } from '../state/state-file.js';
import type { ModeProof } from './cluster.js';
import { assertNodes, assertOptionsOf, assertionLine, kubectlForState, providerContext, proveProxyMode } from './cluster.js';

export async function runStatus(io: Io, resolved: ResolvedSettings, options: { json: boolean }): Promise<number> {
  const s = resolved.values;
  const state = await readClusterState(s.stateDir, s.clusterName);
  if (state === null) {
    if (options.json) io.out(jsonText({ cluster: s.clusterName, recorded: false, exists: null, ok: true }));
    else io.out(`no cluster named "${s.clusterName}" recorded in ${s.stateDir} (create one with: local-up up)\n`);
    return ExitCode.ok;
  }
  const provider = await loadProvider(state.provider);
  const ctx = providerContext({ io, resolved, log: discardLog });
  const exists = await provider.exists(ctx);
  const problems: string[] = [];
  let modes: ModeProof | null = null;
  let checks: NodeCheck[] = [];
  let readyByNode = new Map<string, boolean>();
  if (!exists) {
    problems.push(`the ${state.provider} cluster "${state.clusterName}" recorded in the state file no longer exists (clean up with: local-up down)`);
  } else {
    try {
      const kubectl = kubectlForState(io, s, state.kubeconfig);
      readyByNode = new Map((await kubectl.nodes()).map((n) => [n.name, n.ready]));
      const nodes = await provider.nodes(ctx, state);
      modes = await proveProxyMode(provider, ctx, state, nodes, state.proxyMode);
      problems.push(...modes.problems);
      if (state.proxyMode === 'ipvs') {
        checks = await assertNodes(kubectl, nodes, assertOptionsOf(s));
        for (const c of checks.filter((c) => !c.diff.ok)) problems.push(`node ${c.node}: IPVS ${assertionLine(c)} (details: local-up assert)`);
      }
    } catch (error) {
      if (!isLocalUpError(error)) throw error;
      problems.push(error.message);
    }
  }
  for (const [node, ready] of readyByNode) if (!ready) problems.push(`node ${node} is not Ready`);
  const ok = problems.length === 0;
  if (options.json) {
    io.out(jsonText({
      cluster: state.clusterName, recorded: true, exists, ok, provider: state.provider, createdAt: state.createdAt,
      kubeconfig: state.kubeconfig, requestedMode: state.proxyMode, kubeVersion: state.kubeVersion,
      configuredMode: modes?.configured ?? null,
      nodes: (modes?.nodes ?? []).map((n) => ({ name: n.node, ready: readyByNode.get(n.node) ?? null, proxyMode: n.endpoint.mode, proxyModeError: n.endpoint.error })),
      assertions: checks.map(ipvsCheckJson),
      problems,
    }));
    return ok ? ExitCode.ok : ExitCode.failed;
  }
  const lines = [
    `cluster     ${state.clusterName} (${state.provider}, Kubernetes ${state.kubeVersion}, created ${state.createdAt}): ${exists ? 'running' : 'GONE'}`,
    `kubeconfig  ${state.kubeconfig}  (export KUBECONFIG=${state.kubeconfig})`,
    `mode        requested ${state.proxyMode}${modes === null ? '' : `; ${modes.configured.source}: ${modes.configured.mode === '' ? '(default)' : modes.configured.mode}`}`,
  ];
  io.out(`${lines.join('\n')}\n`);
  if (modes !== null && modes.nodes.length > 0) {
    const rows = [['NODE', 'READY', '/proxyMode', 'IPVS']];
    for (const n of modes.nodes) {
      const check = checks.find((c) => c.node === n.node);
      rows.push([n.node, String(readyByNode.get(n.node) ?? '?'), n.endpoint.mode ?? 'no answer', check === undefined ? (state.proxyMode === 'ipvs' ? '?' : '-') : assertionLine(check)]);
    }
    io.out(`\n${table(rows)}`);
  }
  io.out(ok ? '\nstatus: OK\n' : `\nstatus: PROBLEMS\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  return ok ? ExitCode.ok : ExitCode.failed;
}
