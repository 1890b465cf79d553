// Polling with a deadline that Ctrl-C cuts short.
import { ExitCode, LocalUpError } from '../errors.js';

/** Sleeps, or rejects with an interrupted error as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(interrupted());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const interrupted = (): LocalUpError => new LocalUpError(ExitCode.interrupted, 'interrupted');

export interface PollResult<T> {
  readonly done: boolean;
  readonly value: T;
}

/**
 * Calls `probe` every `intervalMs` until it reports done or `timeoutMs` passes; returns the
 * last result either way (the caller words the timeout).
 */
export async function pollUntil<T>(probe: () => Promise<PollResult<T>>, options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal; now?: () => number }): Promise<PollResult<T>> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted === true) throw interrupted();
    const result = await probe();
    if (result.done || now() >= deadline) return result;
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - now())), options.signal);
  }
}
