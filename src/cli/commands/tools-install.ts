import { ExitCode, usageError } from '../../errors.js';
import { KIND_SHA256, KIND_VERSION, kindAssetName } from '../../providers/kind/release.js';
import { installKind } from '../../providers/kind/tools.js';
import { settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';

const TOOLS = ['kind'] as const;

export const command: CommandModule = {
  usage: 'kind [setting flags]',
  description: `Installs a tool kube-local-up needs into TOOLS_DIR, never at npm install time. kind: downloads
the pinned kind ${KIND_VERSION} for this OS and architecture from
KIND_DOWNLOAD_BASE/${KIND_VERSION}/kind-<os>-<arch>, checks its SHA-256 against the value pinned in
kube-local-up, and keeps it as TOOLS_DIR/kind-${KIND_VERSION} (used when kind is not on PATH and
KIND is unset). A checksum mismatch or a failed download keeps nothing (exit 3) and prints the
manual steps. Pinned: ${Object.keys(KIND_SHA256).join(', ')}.`,
  positionals: { min: 1, max: 1 },
  settings: true,
  async run(io, commandLine) {
    const tool = commandLine.positionals[0] ?? '';
    if (!(TOOLS as readonly string[]).includes(tool)) throw usageError(`tools install: unknown tool ${JSON.stringify(tool)}`, `tools it installs: ${TOOLS.join(', ')}`);
    const { values: settings } = settingsFor(io, commandLine);
    const asset = kindAssetName(process.platform, process.arch);
    if (asset !== null) io.err(`downloading kind ${KIND_VERSION} (${asset}) from ${settings.kindDownloadBase} ...\n`);
    const result = await installKind(settings, io.env, { signal: io.signal });
    io.out(result.downloaded
      ? `installed kind ${KIND_VERSION} at ${result.path} (from ${result.url}, SHA-256 ${result.sha256} verified)\n`
      : `kind ${KIND_VERSION} is already installed at ${result.path}\n`);
    return ExitCode.ok;
  },
};
