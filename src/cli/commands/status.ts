import { runStatus } from '../../steps/status.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--json] [--name NAME] [setting flags]',
  description: `Shows the cluster \`up\` created: whether it still runs, its kubeconfig, each node's readiness
and kube-proxy mode (/proxyMode on port 10249, and the configured mode), and a fresh IPVS assertion
per node (ipvs mode). Exit 0 when all holds or nothing is recorded, 1 when something is wrong.
With --json: {"cluster", "recorded", "exists", "ok", "provider", "kubeconfig", "requestedMode",
"configuredMode", "nodes": [{"name", "ready", "proxyMode"}], "assertions": [...], "problems"}.`,
  options: { json: { type: 'boolean', description: 'print the status as JSON' } },
  settings: true,
  async run(io, commandLine) {
    return runStatus(io, settingsFor(io, commandLine), { json: flagOption(commandLine.values, 'json') });
  },
};
