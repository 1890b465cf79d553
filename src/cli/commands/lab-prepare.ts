import { ExitCode } from '../../errors.js';
import { prepareLab } from '../../lab/index.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText } from '../../io/output.js';

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const command: CommandModule = {
  usage: '[--json] [--force] [--lab-cache-dir DIR]',
  description: `Prepares the lab's kernel in LAB_CACHE_DIR without installing anything on this machine:
finds Debian's current kernel package (apt-cache depends linux-image-amd64), downloads it
(apt-get download), unpacks it (dpkg -x), indexes its modules (depmod -b) and builds a small
initramfs. Needs an x86_64 Debian-like machine, qemu-system-x86, busybox-static and kmod, the
package mirror once, and about 600 MB of disk. Later runs reuse the result.`,
  options: {
    json: { type: 'boolean', description: 'print JSON: {"release", "packageName", "packageVersion", "reused", "dir", "kernel", "initrd", "modulesDir", "bytes", "qemu", "durationMs"}' },
    force: { type: 'boolean', description: 'rebuild even when this kernel release is already prepared' },
  },
  settings: true,
  async run(io, commandLine) {
    const settings = settingsFor(io, commandLine, () => ({ labCacheDir: 'folder' })).values;
    const json = flagOption(commandLine.values, 'json');
    const result = await prepareLab(
      { cacheDir: settings.labCacheDir, force: flagOption(commandLine.values, 'force') },
      { runner: io.runner, log: (line) => io.err(`lab prepare: ${line}\n`), signal: io.signal, isRoot: process.getuid?.() === 0, env: io.env },
    );
    const kernel = result.kernel;
    if (json) {
      io.out(
        jsonText({
          release: kernel.release,
          packageName: kernel.packageName,
          packageVersion: kernel.packageVersion,
          reused: result.reused,
          dir: kernel.dir,
          kernel: kernel.kernel,
          initrd: kernel.initrd,
          modulesDir: kernel.modulesDir,
          bytes: kernel.bytes,
          qemu: result.qemuVersion,
          durationMs: result.durationMs,
        }),
      );
    } else {
      io.out(
        `${result.reused ? 'reusing' : 'prepared'} lab kernel ${kernel.release} (${kernel.packageName} ${kernel.packageVersion}) in ${kernel.dir}\n` +
          `  kernel ${megabytes(kernel.bytes.kernel)}, initramfs ${megabytes(kernel.bytes.initrd)}, modules ${megabytes(kernel.bytes.modules)}\n`,
      );
    }
    return ExitCode.ok;
  },
};
