import { ExitCode, unavailableError } from '../../errors.js';
import { planUp, renderPlan } from '../../plan/up-plan.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText } from '../output.js';

export const command: CommandModule = {
  usage: '[--dry-run] [--json] [setting flags]',
  description: `Brings up a local cluster with kube-proxy in KUBE_PROXY_MODE, then proves the mode and the IPVS
table. With --dry-run it resolves the settings and prints the ordered plan for the chosen provider
and mode, touching nothing.`,
  options: {
    'dry-run': { type: 'boolean', description: 'print the plan and change nothing' },
    json: { type: 'boolean', description: 'with --dry-run: print the plan as JSON' },
  },
  settings: true,
  async run(io, commandLine) {
    const { values: settings } = settingsFor(io, commandLine);
    const plan = planUp(settings);
    if (flagOption(commandLine.values, 'dry-run')) {
      io.out(flagOption(commandLine.values, 'json') ? jsonText(plan) : renderPlan(plan));
      return ExitCode.ok;
    }
    throw unavailableError(`up with provider ${settings.provider} is not available in this version yet`, {
      hint: 'run `local-up up --dry-run` to see the plan; `local-up doctor` checks this machine',
    });
  },
};
