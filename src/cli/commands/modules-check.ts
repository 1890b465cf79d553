import { ExitCode } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import { requiredModules, classifyModule } from '../../kernel/modules.js';
import { probeKernel } from '../../kernel/probe.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText, table } from '../../io/output.js';

export const command: CommandModule = {
  usage: '[--json] [setting flags]',
  description: `Shows each kernel module IPVS mode needs on this kernel, for the configured IPVS_SCHEDULER,
and its state: loaded, builtin, loadable (present in the module tree, not loaded) or absent, with
the evidence read. Exit 0 when every module is loaded or built in, 1 otherwise.`,
  options: { json: { type: 'boolean', description: 'print JSON: {"kernel", "modules": [{"name", "state", "evidence"}]}' } },
  settings: true,
  async run(io, commandLine) {
    const { values: settings } = settingsFor(io, commandLine);
    const kernel = await probeKernel(new LocalHost(io.runner, settings.hostRoot));
    const modules = requiredModules(kernel.release, settings.scheduler).map((name) => classifyModule(name, kernel));
    if (flagOption(commandLine.values, 'json')) io.out(jsonText({ kernel: kernel.release.release, modules }));
    else io.out(table([['MODULE', 'STATE', 'EVIDENCE'], ...modules.map((m) => [m.name, m.state, m.evidence])]));
    return modules.every((m) => m.state === 'loaded' || m.state === 'builtin') ? ExitCode.ok : ExitCode.failed;
  },
};
