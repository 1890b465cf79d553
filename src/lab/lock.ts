// A lock file for `lab prepare`: created exclusively, holding the owner's pid so
// a lock left by a killed process is recognised and taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { LocalUpError, ExitCode } from '../errors.js';

const POLL_MS = 250;

/** True when a process with this pid exists (signal 0 only checks). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  // An empty file is a lock being written right now; only a dead owner's lock is stale.
  if (owner > 0 && !isProcessAlive(owner)) {
    await rm(path, { force: true });
    return tryAcquire(path);
  }
  return false;
}

export interface LockOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called once when the lock is busy and we start waiting. */
  readonly onWait?: () => void;
}

/** Runs fn while holding the lock file; waits for another holder up to the timeout. */
export async function withLock<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let waited = false;
  while (!(await tryAcquire(path))) {
    if (options.signal?.aborted === true) throw new LocalUpError(ExitCode.interrupted, 'interrupted while waiting for the lab prepare lock');
    if (Date.now() > deadline) {
      throw new LocalUpError(ExitCode.failed, `another lab prepare still holds ${path}`, {
        hint: 'wait for it to finish; if no prepare is running, delete the lock file',
      });
    }
    if (!waited) options.onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
