import { ExitCode, isLocalUpError } from '../../errors.js';
import { discardLog } from '../../log/run-log.js';
import { planUp, renderPlan } from '../../plan/up-plan.js';
import { loadProvider } from '../../providers/provider.js';
import { providerContext } from '../../steps/cluster.js';
import { runUp } from '../../steps/up.js';
import { flagOption, STATE_PATHS, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText } from '../../io/output.js';

export const command: CommandModule = {
  usage: '[--dry-run [--json]] [--retain] [--reuse] [--detach] [setting flags]',
  description: `Brings up a local cluster with kube-proxy in KUBE_PROXY_MODE, then proves it: preflight (doctor's
checks for the provider; in ipvs mode every kernel check must pass, and missing IPVS modules are
loaded on this host, whose kernel kind nodes share) → create the cluster (kind: \`kind create
cluster\` with a generated config kept in STATE_DIR/CLUSTER_NAME/ and a private kubeconfig at
KUBECONFIG_OUT) → wait for the kube-proxy DaemonSet and CoreDNS (READY_TIMEOUT) → prove the mode:
kube-proxy's configured mode and /proxyMode (port 10249) on every node → in ipvs mode, assert every
node's IPVS table (/proc/net/ip_vs) and kube-ipvs0 addresses against every Service and
EndpointSlice → a summary with the kubeconfig, the export line and how to tear down.

When kind is missing, the pinned release is downloaded into TOOLS_DIR (checksum verified) unless
KIND_AUTO_INSTALL=false. A cluster of the same name is an error unless --reuse. A failed or
interrupted run (Ctrl-C) deletes what it created unless --retain. Progress goes to stderr (a task
list on a terminal, plain lines otherwise), the summary to stdout, every command's output to a log
file in LOG_DIR.

Exit status: 0 up and proven, 1 a check failed (kube-proxy not ready, wrong mode, IPVS mismatch),
2 bad settings or the cluster exists, 3 something this machine lacks, 130 interrupted.
With the local provider, up then stays in the foreground like local-up-cluster.sh: a component that
dies is reported at once with its log tail and everything is stopped; Ctrl-C stops the cluster in
reverse order (kube-proxy --cleanup included) and exits 130. --detach returns after start-up
instead, leaving a state file so a later \`down\` stops everything.
With --dry-run: print the plan (the exact kind command line and generated config, or every local
component's command line in order) and touch nothing.`,
  options: {
    'dry-run': { type: 'boolean', description: 'print the plan and change nothing' },
    json: { type: 'boolean', description: 'with --dry-run: print the plan as JSON' },
    retain: { type: 'boolean', description: 'keep what a failed run created, for debugging (kind --retain)' },
    reuse: { type: 'boolean', description: 'use an existing cluster of that name instead of failing' },
    detach: { type: 'boolean', description: 'local provider: return after start-up (a later `down` stops it) instead of staying in the foreground' },
  },
  settings: true,
  async run(io, commandLine) {
    const resolved = settingsFor(io, commandLine, (s) => ({
      ...STATE_PATHS(),
      kubeconfigOut: 'file',
      ...(s.provider === 'local' ? { certDir: 'folder', etcdDir: 'folder' } : s.kindAutoInstall ? { toolsDir: 'folder' } : {}),
    }));
    const { values } = commandLine;
    const retain = flagOption(values, 'retain');
    if (flagOption(values, 'dry-run')) {
      let create: readonly string[] | undefined;
      try {
        const provider = await loadProvider(resolved.values.provider);
        create = provider.describeCreate(providerContext({ io, resolved, log: discardLog, retain }));
      } catch (error) {
        // A provider missing from this build still gets the generic plan.
        if (!isLocalUpError(error) || error.exitCode !== ExitCode.unavailable) throw error;
      }
      const plan = planUp(resolved.values, create);
      io.out(flagOption(values, 'json') ? jsonText(plan) : renderPlan(plan, resolved.values));
      return ExitCode.ok;
    }
    return runUp(io, resolved, { retain, reuse: flagOption(values, 'reuse'), detach: flagOption(values, 'detach') });
  },
};
