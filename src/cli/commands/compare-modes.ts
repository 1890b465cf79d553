// `local-up compare-modes`: smoke before and after switching kube-proxy off IPVS,
// side by side, every difference explained by migrate-check's rules
// (src/compare/run.ts does the work).
import { ExitCode } from '../../errors.js';
import { checkJunitPath, writeJunitFile } from '../../io/junit.js';
import { jsonText } from '../../io/output.js';
import { NAMESPACE_PREFIX } from '../../smoke/manifests.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--from ipvs] [--to nftables|iptables] [--dry-run] [--json] [--junit FILE]',
  description: `On a cluster \`local-up up\` made (the local provider) whose kube-proxy runs in IPVS mode:
  1. runs the smoke suite (its own ${NAMESPACE_PREFIX}<random> namespace) and, while its backends run,
     probes from each node: the NodePort on every node address and on localhost, ping to the
     ClusterIP, and kube-proxy's healthz port (a listener of the node) through the ClusterIP;
     meanwhile reads what \`migrate-check --to MODE\` predicts (a BLOCKER stops here, unchanged);
  2. switches kube-proxy: stops it, runs \`kube-proxy --cleanup\` (the old mode's cleanup) and
     removes the IPv6 IPVS ipsets it leaves, sets mode in the KubeProxyConfiguration up wrote,
     starts it again and waits for its /healthz and /proxyMode;
  3. runs the smoke suite and the probes again, in the new mode;
  4. checks for IPVS leftovers (\`assert --mode MODE\`).
Then prints both columns side by side, per check (Service, port, node address): reachability,
endpoint choice, affinity, localhost NodePorts, ping and host ports through the ClusterIP. Each
difference is matched to the migrate-check finding that predicted it; a difference no rule
predicted, or a change a rule promised for exactly what was probed that did not happen, is
UNEXPLAINED: the rules are wrong there. kube-proxy stays in the new mode afterwards.

--dry-run prints the steps (the same list the run follows) and changes nothing.

Exit status: 0 every difference explained and no leftover, 1 an unexplained difference, a
leftover, or a blocker (nothing switched), 2 bad usage or a cluster compare-modes refuses (not
made by \`up\`, not the local provider, kube-proxy not in --from's mode: nothing is changed), 3 the
cluster cannot be read. --json prints {"ok", "from", "to", "steps", "comparison": {"rows":
[{"check", "before", "after", "differs", "verdict", "finding", "note"}], "unexercised", "counts"},
"predictions", "smoke", "leftovers", "stopped"}; --junit FILE writes one testcase per row and per
node's leftover check.`,
  options: {
    from: { type: 'string', value: 'MODE', description: 'the mode kube-proxy must be running in now: ipvs (the default and only choice)' },
    to: { type: 'string', value: 'MODE', description: 'the mode to switch to: nftables (default) or iptables' },
    'dry-run': { type: 'boolean', description: 'print the steps and change nothing' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    junit: { type: 'string', value: 'FILE', description: 'write the result as JUnit XML to FILE' },
  },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const resolved = settingsFor(io, commandLine);
    const junitFile = stringOption(values, 'junit');
    if (junitFile !== undefined) checkJunitPath(io.cwd, junitFile);
    const { prepareCompare, runCompare } = await import('../../compare/run.js');
    const { formatComparePlan } = await import('../../compare/plan.js');
    const { formatCompareReport, renderCompareJunit } = await import('../../compare/report.js');
    const prepared = await prepareCompare(io, resolved, { from: stringOption(values, 'from'), to: stringOption(values, 'to') ?? 'nftables' });
    if (flagOption(values, 'dry-run')) {
      io.out(flagOption(values, 'json') ? jsonText({ dryRun: true, cluster: prepared.state.clusterName, ...prepared.plan }) : formatComparePlan(prepared.plan, prepared.state.clusterName));
      return ExitCode.ok;
    }
    const result = await runCompare(io, resolved, prepared);
    if (junitFile !== undefined) writeJunitFile(io.cwd, junitFile, renderCompareJunit(result));
    io.out(flagOption(values, 'json') ? jsonText(result) : formatCompareReport(result));
    return result.ok ? ExitCode.ok : ExitCode.failed;
  },
};
