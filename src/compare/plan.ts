// The steps of compare-modes (pure): `compare-modes` runs exactly these, in this
// order, under these titles, and `compare-modes --dry-run` prints them.
export type CompareStepId = 'smoke-before' | 'switch' | 'smoke-after' | 'leftovers';

export interface CompareStep {
  readonly id: CompareStepId;
  readonly title: string;
  /** What the step does, one line each (the provider says how it switches). */
  readonly details: readonly string[];
}

export interface ComparePlanInput {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly nodes: readonly string[];
  /** The provider's own lines for the switch (Provider.describeSwitchProxyMode). */
  readonly switchLines: readonly string[];
  /** The port only the node listens on, probed through the ClusterIP (kube-proxy's healthz). */
  readonly hostListenerPort: number;
}

export interface ComparePlan {
  readonly from: string;
  readonly to: string;
  readonly steps: readonly CompareStep[];
}

export function planCompare(input: ComparePlanInput): ComparePlan {
  const smoke = (mode: string): string[] => [
    `the smoke suite in kube-proxy's ${mode} mode, in a namespace of its own (deleted afterwards)`,
    `while its 3 backends run: from each node (${input.nodes.join(', ')}), the NodePort on every node address and on localhost, ping to the ClusterIP, and port ${input.hostListenerPort} (kube-proxy's healthz, a listener of the node) through the ClusterIP`,
  ];
  return {
    from: input.from,
    to: input.to,
    steps: [
      { id: 'smoke-before', title: `smoke and node probes in ${input.from} mode; migrate-check --to ${input.to} while the smoke Services exist`, details: [...smoke(input.from), `migrate-check --to ${input.to}: its findings are the predictions every difference is matched to; a BLOCKER stops here, before anything changes`] },
      { id: 'switch', title: `switch kube-proxy from ${input.from} to ${input.to}`, details: [...input.switchLines, `/proxyMode must answer ${input.to} on every node`] },
      { id: 'smoke-after', title: `smoke and node probes in ${input.to} mode`, details: smoke(input.to) },
      { id: 'leftovers', title: `assert --mode ${input.to}: no IPVS leftovers on any node`, details: ['virtual servers, kube-ipvs0, IPVS ipsets (IPv4 and IPv6), IPVS-mode iptables chains'] },
    ],
  };
}

/** The plan as --dry-run prints it. */
export function formatComparePlan(plan: ComparePlan, cluster: string): string {
  const lines = [`compare-modes on cluster ${cluster}: ${plan.from} -> ${plan.to}, in ${plan.steps.length} steps (nothing was changed: --dry-run)`];
  plan.steps.forEach((step, i) => {
    lines.push(`${i + 1}. ${step.title}`);
    for (const d of step.details) lines.push(`   - ${d}`);
  });
  lines.push(`then: the side-by-side report, each difference with the migrate-check rule that predicted it`);
  return `${lines.join('\n')}\n`;
}
