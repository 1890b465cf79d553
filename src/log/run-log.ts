// Logs kept for every long command: each line of every child process and every
// step, with a timestamp, in LOG_DIR. The path is printed at the end so users
// (and CI artifacts) can find it.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunLog {
  readonly path: string;
  write(line: string): void;
}

/** Opens `<logDir>/<name>-<timestamp>.log`. `now` is injectable for tests. */
export function openRunLog(logDir: string, name: string, now: () => Date = () => new Date()): RunLog {
  mkdirSync(logDir, { recursive: true });
  const stamp = now().toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
  const path = join(logDir, `${name}-${stamp}.log`);
  return {
    path,
    write(line: string) {
      appendFileSync(path, `${now().toISOString()} ${line.endsWith('\n') ? line : `${line}\n`}`);
    },
  };
}

/** A log that keeps nothing (dry runs, tests). */
export const discardLog: RunLog = { path: '/dev/null', write: () => {} };
