import { runLogs } from '../../steps/logs.js';
import { STATE_PATHS, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--name NAME] [setting flags]',
  description: `Collects what is needed to debug kube-proxy in IPVS mode into LOG_DIR/collect-<time>/ and
prints where: the provider's logs (kind: \`kind export logs\`), and per node the kube-proxy log, its
ipsets (\`ipset list\` inside the kube-proxy pod), the IPVS table (/proc/net/ip_vs), the node's
addresses and those on kube-ipvs0, and what /proxyMode answers.`,
  settings: true,
  async run(io, commandLine) {
    return runLogs(io, settingsFor(io, commandLine, STATE_PATHS));
  },
};
