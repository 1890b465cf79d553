// Shared by the lab-*.test.ts files: finds out once per process whether a lab VM
// can run here (x86_64 Linux, qemu, Debian's kernel package reachable) and
// prepares the kernel in the usual cache, or says why the tests must skip.
import { readdirSync, readFileSync } from 'node:fs';
import { resolveSettings } from '../../src/config/resolve.js';
import { isLocalUpError } from '../../src/errors.js';
import { ExecaRunner } from '../../src/exec/execa-runner.js';
import { findExecutable } from '../../src/exec/which.js';
import type { LabAccelSetting, LabDeps, LabMachine, PreparedKernel } from '../../src/lab/index.js';
import { prepareLab } from '../../src/lab/index.js';

export type LabAvailability = { machine: LabMachine; kernel: PreparedKernel; skip?: undefined } | { skip: string };

/** Generous: a 2-core machine under software emulation, with the other core busy, boots slowly. */
const TEST_LAB_TIMEOUT_SECONDS = 900;

/** Under CI=true or LAB_REQUIRED=1 the lab must run: a reason to skip becomes a failure. */
export function labRequired(env: Readonly<Record<string, string | undefined>>): boolean {
  return /^(true|1)$/i.test(env.CI ?? '') || /^(true|1)$/i.test(env.LAB_REQUIRED ?? '');
}

/** A skip, or (when the lab is required) a loud failure with the same reason. */
export function skipUnlessRequired(reason: string, env: Readonly<Record<string, string | undefined>> = process.env): { skip: string } {
  if (labRequired(env)) throw new Error(`the lab is required here (CI=true or LAB_REQUIRED=1) but cannot run: ${reason}`);
  return { skip: reason };
}

let pending: Promise<LabAvailability> | undefined;

async function findLab(): Promise<LabAvailability> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return skipUnlessRequired(`the lab needs x86_64 Linux (this is ${process.platform}/${process.arch})`);
  const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
  const log = (line: string) => process.stderr.write(`# lab: ${line}\n`);
  try {
    const prepared = await prepareLab({ cacheDir: settings.labCacheDir }, { runner: new ExecaRunner(), log, isRoot: process.getuid?.() === 0 });
    return {
      kernel: prepared.kernel,
      machine: {
        cacheDir: settings.labCacheDir,
        memoryMb: settings.labMemory,
        cpus: settings.labCpus,
        timeoutSeconds: TEST_LAB_TIMEOUT_SECONDS,
        accel: (process.env.LAB_ACCEL as LabAccelSetting | undefined) ?? settings.labAccel,
      },
    };
  } catch (error) {
    // Only "this machine lacks something" (no qemu, no apt, no mirror, not x86_64) is a reason to skip.
    if (isLocalUpError(error) && error.exitCode === 3) return skipUnlessRequired(`no lab here: ${error.message}`);
    throw error;
  }
}

/** Whether qemu is here: tests that boot nothing but need qemu skip only without it. */
export function qemuSkip(env: Readonly<Record<string, string | undefined>> = process.env): string | false {
  return findExecutable('qemu-system-x86_64', env) === null ? skipUnlessRequired('qemu-system-x86_64 is not installed', env).skip : false;
}

/** The lab machine settings for tests, or the reason the lab cannot run here. */
export function labAvailability(): Promise<LabAvailability> {
  pending ??= findLab();
  return pending;
}

/** Deps for the library API: the real runner, progress to the test log. */
export function labDeps(signal?: AbortSignal): LabDeps {
  return { runner: new ExecaRunner(), log: (line) => process.stderr.write(`# lab: ${line}\n`), ...(signal === undefined ? {} : { signal }) };
}

/** Pids of live processes whose command line mentions this text (e.g. a test's own temp folder). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1];
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
