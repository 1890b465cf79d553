import { displayValue } from '../../config/display.js';
import type { SettingKey } from '../../config/settings.js';
import { settingSpecs } from '../../config/settings.js';
import { ExitCode } from '../../errors.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText, table } from '../../io/output.js';

export const command: CommandModule = {
  usage: '[--json] [setting flags]',
  description: `Prints every setting with its resolved value and where the value came from:
flag (command line), env (real environment), .env (the file), or default.
Precedence is flag > env > .env > default.`,
  options: { json: { type: 'boolean', description: 'print JSON: {"settings": [{"name", "flag", "value", "source", "origin"?, "description"}]}' } },
  settings: true,
  async run(io, commandLine) {
    const resolved = settingsFor(io, commandLine);
    const specs = settingSpecs(io.env);
    const rows = (Object.keys(specs) as SettingKey[]).map((key) => {
      const source = resolved.sources[key];
      return {
        name: source.env,
        flag: `--${source.flag}`,
        value: displayValue(key, resolved.values),
        source: source.source,
        ...(source.origin === undefined ? {} : { origin: source.origin }),
        description: specs[key].description,
      };
    });
    if (flagOption(commandLine.values, 'json')) {
      io.out(jsonText({ settings: rows }));
    } else {
      io.out(table([['SETTING', 'VALUE', 'SOURCE'], ...rows.map((r) => [r.name, r.value === '' ? '(empty)' : r.value, r.origin ?? r.source])]));
    }
    return ExitCode.ok;
  },
};
