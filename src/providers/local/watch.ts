// Foreground supervision of a running local cluster: returns when the user
// interrupts (the caller then stops the cluster), or reports the first component
// that died, at once, with its log tail. It works on recorded components (pids
// from the state file), so it also watches processes another run started.
import { ExitCode, LocalUpError } from '../../errors.js';
import type { ProcessControl, ProcessRecord } from './process.js';
import { isSameProcess } from './process.js';
import { readLogTail } from './supervisor.js';

export const WATCH_INTERVAL_MS = 500;

export type WatchOutcome = { readonly kind: 'interrupted' } | { readonly kind: 'died'; readonly record: ProcessRecord };

/** The first recorded component that is no longer running (by pid, start time and command line). */
export function firstDead(control: ProcessControl, records: readonly ProcessRecord[]): ProcessRecord | null {
  for (const record of records) {
    const identity = control.identity(record.pid);
    if (identity === null || identity.state === 'Z' || !isSameProcess(record, identity)) return record;
  }
  return null;
}

/** Polls until a component dies or `signal` aborts. */
export function watchComponents(control: ProcessControl, records: readonly ProcessRecord[], signal: AbortSignal, intervalMs = WATCH_INTERVAL_MS): Promise<WatchOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: WatchOutcome) => {
      if (timer !== undefined) clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: 'interrupted' });
    if (signal.aborted) {
      resolve({ kind: 'interrupted' });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const look = () => {
      const dead = firstDead(control, records);
      if (dead !== null) finish({ kind: 'died', record: dead });
    };
    timer = setInterval(look, intervalMs);
    look();
  });
}

/** The error for a component that died while the cluster ran in the foreground. */
export async function diedError(record: ProcessRecord): Promise<LocalUpError> {
  const logTail = await readLogTail(record.logFile);
  return new LocalUpError(ExitCode.failed, `${record.name} (pid ${record.pid}) terminated unexpectedly; the cluster was stopped`, {
    details: logTail === '' ? `(its log ${record.logFile} is empty)` : `last lines of ${record.logFile}:\n${logTail}`,
    hint: `the whole log: ${record.logFile}`,
  });
}
