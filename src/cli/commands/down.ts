import { runDown } from '../../steps/down.js';
import { STATE_PATHS, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--name NAME] [setting flags]',
  description: `Deletes the cluster \`up\` created: what the state file in STATE_DIR/CLUSTER_NAME/ records
(kind: \`kind delete cluster\`, the private kubeconfig and the generated config; logs are kept),
then the state file. Safe to run again: with no cluster it says so and exits 0. A cluster that
kube-local-up has no record of is only deleted when named explicitly (--name or CLUSTER_NAME).`,
  settings: true,
  async run(io, commandLine) {
    return runDown(io, settingsFor(io, commandLine, STATE_PATHS));
  },
};
