// Starts components one at a time, each waiting for real readiness, notices a
// component that exits at once (with its log tail), and stops recorded
// components in reverse order: SIGTERM to the group, a grace period, SIGKILL.
import { open } from 'node:fs/promises';
import { ExitCode, LocalUpError } from '../../errors.js';
import { tail } from '../../exec/runner.js';
import { pollUntil } from '../../exec/wait.js';
import type { HttpClient, HttpAnswer } from './http.js';
import type { HttpProbe } from './plan.js';
import type { Launched, ProcessControl, ProcessExit, ProcessRecord, StopDecision } from './process.js';
import { decideStop } from './process.js';

export const LOG_TAIL_LINES = 30;
/** Enough for a health answer on a loaded machine; a probe that hangs longer is retried. */
const PROBE_TIMEOUT_MS = 3_000;
const PROBE_INTERVAL_MS = 250;
/** SIGTERM, then SIGKILL after this. Short: Ctrl-C must finish within the CLI's grace period. */
export const STOP_GRACE_MS = 3_000;
const STOP_POLL_MS = 100;
/** The last bytes of a log that are read for its tail. */
const LOG_TAIL_BYTES = 64 * 1024;

/** The last lines of a file ('' when it cannot be read). */
export async function readLogTail(path: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return tail(buffer.toString('utf8'), lines);
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : exit.code === null ? 'could not be started' : `exited with code ${exit.code}`;
}

/** A component that stopped on its own: the error names it, shows its log tail and where the log is. */
export async function crashError(record: ProcessRecord, exit: ProcessExit, during: string): Promise<LocalUpError> {
  const logTail = await readLogTail(record.logFile);
  return new LocalUpError(ExitCode.failed, `${record.name} ${describeExit(exit)} ${during}`, {
    details: logTail === '' ? `(its log ${record.logFile} is empty)` : `last lines of ${record.logFile}:\n${logTail}`,
    hint: `the whole log: ${record.logFile}`,
  });
}

/** Whether a health answer means ready, and if not, why (for the timeout message). */
export function judgeHealth(probe: HttpProbe, answer: HttpAnswer): { ready: boolean; why: string } {
  if (!answer.ok) return { ready: false, why: answer.error };
  const body = answer.body.trim();
  if (answer.status !== 200) return { ready: false, why: `HTTP ${answer.status}${body === '' ? '' : `: ${body.slice(0, 200)}`}` };
  switch (probe.expect) {
    case 'status-200':
      return { ready: true, why: 'HTTP 200' };
    case 'ok':
      return body === 'ok' ? { ready: true, why: 'ok' } : { ready: false, why: `HTTP 200 but the body is "${body.slice(0, 200)}", not "ok"` };
    case 'etcd-health': {
      try {
        const health = (JSON.parse(body) as { health?: unknown }).health;
        return health === 'true' || health === true ? { ready: true, why: 'health true' } : { ready: false, why: `health is ${JSON.stringify(health)}` };
      } catch {
        return { ready: false, why: `the body is not JSON: ${body.slice(0, 200)}` };
      }
    }
  }
}

export interface CrashReport {
  readonly record: ProcessRecord;
  readonly exit: ProcessExit;
}

export interface SupervisorDeps {
  readonly control: ProcessControl;
  readonly http: HttpClient;
  /** One line into the run log. */
  readonly log: (line: string) => void;
}

/** The components this run started, and whether one of them stopped on its own. */
export class Supervisor {
  private readonly launched: Launched[] = [];
  private readonly stopping = new Set<string>();
  private crash: CrashReport | null = null;
  private readonly listeners: ((report: CrashReport) => void)[] = [];

  constructor(private readonly deps: SupervisorDeps) {}

  get records(): ProcessRecord[] {
    return this.launched.map((l) => l.record);
  }

  /** The first component that exited without being asked to. */
  get crashed(): CrashReport | null {
    return this.crash;
  }

  /** Called once, at the first unexpected exit. */
  onCrash(listener: (report: CrashReport) => void): void {
    this.listeners.push(listener);
    if (this.crash !== null) listener(this.crash);
  }

  /** Starts a component with exactly `env` as its environment (the CLI's, not this process's, in tests). */
  start(name: string, argv: readonly string[], logFile: string, env?: Readonly<Record<string, string | undefined>>): ProcessRecord {
    const launched = this.deps.control.launch({ name, argv, logFile, ...(env === undefined ? {} : { env }) });
    this.launched.push(launched);
    this.deps.log(`started ${name}: pid ${launched.record.pid}, log ${logFile}: ${argv.join(' ')}`);
    void launched.exited.then((exit) => {
      this.deps.log(`${name} (pid ${launched.record.pid}) ${describeExit(exit)}`);
      if (this.stopping.has(name) || this.crash !== null) return;
      this.crash = { record: launched.record, exit };
      for (const listener of this.listeners) listener(this.crash);
    });
    return launched.record;
  }

  /** Marks components as being stopped on purpose (their exit is not a crash). */
  expectStop(names: readonly string[]): void {
    for (const name of names) this.stopping.add(name);
  }

  /** Throws the crash error when any started component has exited on its own. */
  async throwIfCrashed(during: string): Promise<void> {
    if (this.crash !== null) throw await crashError(this.crash.record, this.crash.exit, during);
  }

  /**
   * Polls the component's health endpoint until it answers ready. A crash of any component
   * ends the wait at once with that component's log tail; a timeout names the last answer.
   */
  async waitHealthy(record: ProcessRecord, probe: HttpProbe, options: { timeoutMs: number; signal?: AbortSignal; progress?: (line: string) => void }): Promise<void> {
    let last = 'no answer yet';
    const result = await pollUntil(
      async () => {
        if (this.crash !== null) return { done: true, value: false };
        const answer = await this.deps.http.get(probe.url, { timeoutMs: PROBE_TIMEOUT_MS, ...(probe.caFile === undefined ? {} : { caFile: probe.caFile }) });
        const verdict = judgeHealth(probe, answer);
        last = verdict.why;
        return { done: verdict.ready, value: verdict.ready };
      },
      { timeoutMs: options.timeoutMs, intervalMs: PROBE_INTERVAL_MS, ...(options.signal === undefined ? {} : { signal: options.signal }) },
    );
    await this.throwIfCrashed(`while kube-local-up waited for ${record.name} to become ready`);
    if (result.value) {
      this.deps.log(`${record.name} is ready (${probe.url})`);
      return;
    }
    const logTail = await readLogTail(record.logFile);
    throw new LocalUpError(ExitCode.failed, `${record.name} did not become ready within ${Math.round(options.timeoutMs / 1000)}s (READY_TIMEOUT): ${probe.url} answered: ${last}`, {
      details: logTail === '' ? `(its log ${record.logFile} is empty)` : `last lines of ${record.logFile}:\n${logTail}`,
      hint: `the whole log: ${record.logFile}`,
    });
  }
}

export interface StopOutcome {
  readonly name: string;
  readonly pid: number;
  readonly decision: StopDecision;
  /** 'stopped' (SIGTERM was enough), 'killed' (SIGKILL needed), 'left' (still there), or none when not signalled. */
  readonly result: 'stopped' | 'killed' | 'left' | 'not-signalled';
}

async function waitGroupGone(control: ProcessControl, pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (control.groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
  }
}

/** Stops one recorded component, after the PID-reuse guard (decideStop) agrees. */
export async function stopRecorded(control: ProcessControl, record: ProcessRecord, graceMs = STOP_GRACE_MS): Promise<StopOutcome> {
  const decision = decideStop(record, control.identity(record.pid), control.groupMembers(record.pgid));
  if (decision.action !== 'signal') return { name: record.name, pid: record.pid, decision, result: 'not-signalled' };
  await control.signalGroup(record.pgid, 'SIGTERM');
  if (await waitGroupGone(control, record.pgid, graceMs)) return { name: record.name, pid: record.pid, decision, result: 'stopped' };
  await control.signalGroup(record.pgid, 'SIGKILL');
  return { name: record.name, pid: record.pid, decision, result: (await waitGroupGone(control, record.pgid, graceMs)) ? 'killed' : 'left' };
}

export function describeStop(outcome: StopOutcome): string {
  switch (outcome.result) {
    case 'stopped':
      return `${outcome.name} (pid ${outcome.pid}) stopped`;
    case 'killed':
      return `${outcome.name} (pid ${outcome.pid}) did not stop on SIGTERM within ${STOP_GRACE_MS / 1000}s and was killed`;
    case 'left':
      return `${outcome.name} (pid ${outcome.pid}) is STILL RUNNING after SIGKILL`;
    case 'not-signalled':
      return outcome.decision.why;
  }
}
