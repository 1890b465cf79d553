// `down`: deletes exactly what the state file (or an explicit --name) names.
// Idempotent: no cluster is "nothing to delete", exit 0. A cluster of the
// default name that kube-local-up has no record of is left alone.
import type { ResolvedSettings } from '../config/resolve.js';
import type { Io } from '../io/io.js';
import { withProgress } from './progress.js';
import { ExitCode, isLocalUpError } from '../errors.js';
import { discardLog, openRunLog } from '../log/run-log.js';
import { loadProvider } from '../providers/provider.js';
import { readClusterState, removeClusterState } from '../state/state-file.js';
import { providerContext } from './cluster.js';

export async function runDown(io: Io, resolved: ResolvedSettings): Promise<number> {
  const s = resolved.values;
  const state = await readClusterState(s.stateDir, s.clusterName);
  const named = resolved.sources.clusterName.source !== 'default';
  const provider = await loadProvider(state?.provider ?? s.provider);

  if (state === null) {
    // Nothing recorded: ask the provider without writing anything (no log folder for a cluster that is not there).
    const quiet = providerContext({ io, resolved, log: discardLog });
    let exists: boolean;
    try {
      exists = await provider.exists(quiet);
    } catch (error) {
      // No kind (or no engine) to ask: there is no cluster this machine could delete either.
      if (!isLocalUpError(error) || error.exitCode !== ExitCode.unavailable) throw error;
      io.out(`no record of a cluster named "${s.clusterName}", and ${provider.name} cannot list clusters here (${error.message}): nothing to delete\n`);
      return ExitCode.ok;
    }
    if (!exists) {
      io.out(`no cluster named "${s.clusterName}": nothing to delete\n`);
      return ExitCode.ok;
    }
    if (!named) {
      io.out(`a ${provider.name} cluster named "${s.clusterName}" exists, but kube-local-up has no record of creating it; nothing was deleted\n`);
      io.err(`hint: to delete it anyway: local-up down --name ${s.clusterName}\n`);
      return ExitCode.ok;
    }
  }
  const log = openRunLog(s.logDir, 'down');
  const ctx = providerContext({ io, resolved, log, progress: (line) => log.write(line) });
  const outcome = await withProgress(io, `Delete the ${provider.name} cluster "${s.clusterName}"`, () => provider.destroy(ctx, state), { quiet: !io.interactive });
  await removeClusterState(s.stateDir, s.clusterName);
  log.write(`down: ${outcome}`);
  if (outcome === 'deleted') io.out(`deleted the ${provider.name} cluster "${s.clusterName}"\n`);
  else io.out(`no cluster named "${s.clusterName}": nothing to delete${state === null ? '' : ' (removed its stale state file)'}\n`);
  return ExitCode.ok;
}
