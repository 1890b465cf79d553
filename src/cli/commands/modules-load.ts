import { ExitCode } from '../../errors.js';
import { LocalHost } from '../../exec/host.js';
import { PERSIST_FILE, loadModules } from '../../kernel/load.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[--persist] [setting flags]',
  description: `Loads the kernel modules kube-proxy's IPVS mode needs: ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh,
ip_vs_<IPVS_SCHEDULER>, and nf_conntrack (nf_conntrack_ipv4 before Linux 4.19). Modules that are
already loaded or built in are left alone, so it is safe to run again. Not root: it uses sudo
(which may ask for a password on a terminal; without a terminal it uses sudo -n and tells you the
exact command to run when that is not enough). On a kernel that cannot load modules, or when a
module does not exist, it says so and loads nothing. Every module is verified afterwards.
What it did goes to stderr, so "modules load && doctor --json" keeps stdout pure JSON.`,
  options: { persist: { type: 'boolean', description: `also write ${PERSIST_FILE} so the modules load at boot` } },
  settings: true,
  async run(io, commandLine) {
    const { values: settings } = settingsFor(io, commandLine);
    const result = await loadModules(
      settings.scheduler,
      {
        host: new LocalHost(io.runner, settings.hostRoot),
        runner: io.runner,
        elevation: { uid: process.getuid?.() ?? -1, interactive: io.stdinIsTTY, env: io.env },
        signal: io.signal,
      },
      { persist: flagOption(commandLine.values, 'persist') },
    );
    for (const status of result.after) {
      const was = result.before.find((s) => s.name === status.name);
      const note = result.loaded.includes(status.name) ? 'loaded now' : was?.state === 'builtin' ? 'built in' : 'already loaded';
      io.err(`${status.name.padEnd(18)} ${note}\n`);
    }
    if (result.persisted === 'written') io.err(`wrote ${PERSIST_FILE}\n`);
    if (result.persisted === 'unchanged') io.err(`${PERSIST_FILE} already up to date\n`);
    return ExitCode.ok;
  },
};
