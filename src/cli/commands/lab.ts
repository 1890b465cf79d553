import { ExitCode, usageError } from '../../errors.js';
import { runInLab } from '../../lab/index.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

export const command: CommandModule = {
  usage: '[options] [--] COMMAND [ARGS...]',
  description: `Runs COMMAND as root inside a throwaway qemu VM that boots Debian's kernel, which has
IPVS and loadable modules. The VM's root file system is this machine's /, shared read-only with
a writable tmpfs on top (writes are thrown away), so your tools, node and this project are there.
COMMAND runs in the current directory with your environment (PATH gains the sbin folders); its
stdout and stderr stream here as they arrive, and lab exits with COMMAND's exit code.
Files written to /run/lab inside the VM are visible to the run only.

The kernel is prepared on first use (see \`local-up lab prepare\`). Lab failures exit 3 (the
machine lacks something), 2 (bad usage), 124 (LAB_TIMEOUT passed; the VM is killed) or 130.`,
  options: {
    console: { type: 'boolean', description: 'show the VM console (boot messages) on stderr' },
    'no-prepare': { type: 'boolean', description: 'fail instead of preparing the kernel when it is not prepared' },
  },
  settings: true,
  positionals: { min: 0, max: null },
  passThrough: true,
  async run(io, commandLine) {
    if (commandLine.positionals.length === 0) {
      throw usageError('lab: no command given', 'usage: local-up lab [options] -- COMMAND [ARGS...], e.g. local-up lab -- ipvsadm -Ln');
    }
    const settings = settingsFor(io, commandLine, () => ({ labCacheDir: 'folder' })).values;
    const showConsole = flagOption(commandLine.values, 'console');
    const result = await runInLab(
      {
        command: commandLine.positionals,
        cwd: io.cwd,
        env: io.env,
        cacheDir: settings.labCacheDir,
        memoryMb: settings.labMemory,
        cpus: settings.labCpus,
        timeoutSeconds: settings.labTimeout,
        accel: settings.labAccel,
        prepare: !flagOption(commandLine.values, 'no-prepare'),
        // Bytes go through as they are: the guest's output may be binary.
        onStdout: (chunk) => io.out(chunk),
        onStderr: (chunk) => io.err(chunk),
        ...(showConsole ? { onConsole: (text: string) => io.err(text.replaceAll('\r', '')) } : {}),
      },
      { runner: io.runner, log: (line) => io.err(`lab: ${line}\n`), signal: io.signal },
    );
    return result.exitCode === 0 ? ExitCode.ok : result.exitCode;
  },
};
