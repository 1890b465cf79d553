import { ExitCode } from '../../errors.js';
import { locateKind } from '../../providers/kind/tools.js';
import { listInstalled } from '../../tools/install.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText, table } from '../../io/output.js';

export const command: CommandModule = {
  usage: '[--json] [setting flags]',
  description: `Lists what \`local-up tools install\` put in TOOLS_DIR: each complete set (a folder with a
valid install manifest) with its version, where it came from and its binaries, and the kind that
up would use. Folders an interrupted install left are never listed.`,
  options: { json: { type: 'boolean', description: 'print JSON: {"toolsDir", "sets": [...], "kind": {...}}' } },
  settings: true,
  async run(io, commandLine) {
    const { values: settings } = settingsFor(io, commandLine);
    const sets = listInstalled(settings.toolsDir);
    const kind = locateKind(settings, io.env);
    if (flagOption(commandLine.values, 'json')) {
      io.out(jsonText({ toolsDir: settings.toolsDir, sets, kind }));
      return ExitCode.ok;
    }
    if (sets.length === 0) io.out(`nothing installed in ${settings.toolsDir} (local-up tools install kubernetes|etcd|kind)\n`);
    else io.out(table([['TOOL', 'VERSION', 'SOURCE', 'BINARIES', 'WHERE'], ...sets.map((s) => [s.tool, s.version, s.source === 'source' ? `built from ${s.origin}` : s.origin, s.binaries.join(','), s.binDir])]));
    io.out(`kind used by up: ${kind.path === null ? `none${kind.problem === null ? '' : ` (${kind.problem})`}` : `${kind.path} (${kind.source ?? ''})`}\n`);
    return ExitCode.ok;
  },
};
