// Long-lived component processes: started in their own process group with
// stdout/stderr appended to their log file, identified by pid + start time +
// command line, and stopped by signalling their whole group. The Runner runs
// commands to completion; these run for the cluster's lifetime, so they get
// their own small seam (ProcessControl) that tests can replace.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Runner } from '../../exec/runner.js';

const SUDO_KILL_TIMEOUT_MS = 10_000;

/** What the state file keeps about one running component, enough to find it again safely. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** Its process group (the pid: each component leads its own group). */
  readonly pgid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot at which it started. null when unreadable. */
  readonly startTicks: number | null;
  /** The argv it was started with (sudo included). */
  readonly argv: readonly string[];
  readonly logFile: string;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface ProcessIdentity {
  readonly startTicks: number;
  readonly pgid: number;
  /** R, S, D, Z... */
  readonly state: string;
  readonly cmdline: readonly string[];
}

export interface Launched {
  readonly record: ProcessRecord;
  /** Resolves when the process exits (only for processes this run started). */
  readonly exited: Promise<ProcessExit>;
}

export interface LaunchSpec {
  readonly name: string;
  readonly argv: readonly string[];
  readonly logFile: string;
  /** The whole environment (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The effects the supervisor needs; LocalProcessControl is the real one. */
export interface ProcessControl {
  launch(spec: LaunchSpec): Launched;
  /** The process's identity from /proc, or null when no such process exists. */
  identity(pid: number): ProcessIdentity | null;
  /** Pids whose process group is pgid. */
  groupMembers(pgid: number): number[];
  /** Signals the whole group; false when nothing was there. */
  signalGroup(pgid: number, signal: NodeJS.Signals): Promise<boolean>;
}

/**
 * /proc/<pid>/stat: "pid (comm) state ppid pgrp session ... starttime(22) ...". comm may hold
 * spaces and parentheses, so the fields are counted from the last ")".
 */
export function parseProcStat(text: string): { state: string; pgid: number; startTicks: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const state = fields[0];
  const pgid = Number(fields[2]);
  const startTicks = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pgid) || !Number.isInteger(startTicks)) return null;
  return { state, pgid, startTicks };
}

/**
 * Whether a live process is the one a record describes. The start time proves it is the same
 * process (a reused pid starts later); the command line guards against a record whose start
 * time could not be read. A script run through an interpreter (#!/usr/bin/env node) shows
 * "node <script> args" in /proc, so the recorded argv may appear after an interpreter prefix.
 */
export function isSameProcess(record: Pick<ProcessRecord, 'startTicks' | 'argv'>, identity: ProcessIdentity): boolean {
  if (record.startTicks !== null && record.startTicks !== identity.startTicks) return false;
  const want = record.argv;
  const have = identity.cmdline;
  if (have.length < want.length) return false;
  const offset = have.length - want.length;
  return want.every((word, i) => have[offset + i] === word);
}

export type StopDecision =
  | { readonly action: 'signal'; readonly why: string }
  | { readonly action: 'gone'; readonly why: string }
  | { readonly action: 'refuse'; readonly why: string };

/**
 * Whether the group of a recorded component may be signalled (PID-reuse guard). Pure.
 *
 * - The leader (pid == pgid) is alive and is our process (same start time and command line):
 *   signal the group.
 * - A process with that pid exists but is someone else: the pid was reused, which Linux only
 *   does after the old process and its whole group are gone, so nothing of ours is left: refuse.
 * - No process has that pid, but processes are still in the group: the leader exited and left
 *   children behind. Linux never hands out a pid that is still in use as a process-group id, so
 *   that group can only be the one our leader created: signal it.
 * - Neither: gone.
 */
export function decideStop(record: ProcessRecord, leader: ProcessIdentity | null, members: readonly number[]): StopDecision {
  if (leader !== null && leader.state !== 'Z') {
    return isSameProcess(record, leader)
      ? { action: 'signal', why: `pid ${record.pid} is still ${record.name}` }
      : { action: 'refuse', why: `pid ${record.pid} now belongs to another process (start time or command line differ): ${record.name} is gone and the pid was reused` };
  }
  if (members.length > 0) return { action: 'signal', why: `${record.name} (pid ${record.pid}) exited but left ${members.length} process(es) in its group ${record.pgid}` };
  return { action: 'gone', why: `${record.name} (pid ${record.pid}) is not running` };
}

export function readIdentity(pid: number): ProcessIdentity | null {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (stat === null) return null;
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const cmdline = raw.split('\0');
    if (cmdline[cmdline.length - 1] === '') cmdline.pop();
    return { ...stat, cmdline };
  } catch {
    return null;
  }
}

export interface LocalProcessControlOptions {
  /** For the sudo fallback when this user may not signal a root-owned group. */
  readonly runner: Runner;
  readonly sudo: string | null;
}

export class LocalProcessControl implements ProcessControl {
  constructor(private readonly options: LocalProcessControlOptions) {}

  launch(spec: LaunchSpec): Launched {
    const [file, ...args] = spec.argv;
    if (file === undefined) throw new Error(`${spec.name}: empty command line`);
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a', 0o644);
    try {
      writeSync(fd, `# kube-local-up ${new Date().toISOString()}: starting ${spec.argv.join(' ')}\n`);
      // Own process group (detached), output straight to the log file (no pipe that could fill up or
      // break when kube-local-up exits), and unref'd: with up --detach the components outlive us.
      const child = spawn(file, args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        ...(spec.env === undefined ? {} : { env: Object.fromEntries(Object.entries(spec.env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv }),
      });
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: null, signal: null }));
      });
      child.unref();
      const pid = child.pid;
      if (pid === undefined) {
        // spawn failed (e.g. ENOENT); the 'error' event has the reason.
        return { record: { name: spec.name, pid: -1, pgid: -1, startTicks: null, argv: spec.argv, logFile: spec.logFile }, exited };
      }
      const stat = (() => {
        try {
          return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return null;
        }
      })();
      return { record: { name: spec.name, pid, pgid: pid, startTicks: stat?.startTicks ?? null, argv: spec.argv, logFile: spec.logFile }, exited };
    } finally {
      closeSync(fd);
    }
  }

  identity(pid: number): ProcessIdentity | null {
    return pid > 0 ? readIdentity(pid) : null;
  }

  groupMembers(pgid: number): number[] {
    if (pgid <= 0) return [];
    const members: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const identity = readIdentity(Number(name));
      if (identity !== null && identity.pgid === pgid && identity.state !== 'Z') members.push(Number(name));
    }
    return members;
  }

  async signalGroup(pgid: number, signal: NodeJS.Signals): Promise<boolean> {
    if (pgid <= 0) return false;
    try {
      process.kill(-pgid, signal);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return false;
      if (code !== 'EPERM' || this.options.sudo === null) throw error;
    }
    // A root component started through sudo: this user may not signal it directly.
    const result = await this.options.runner.run(this.options.sudo, ['-n', 'kill', '-s', signal.replace(/^SIG/, ''), '--', `-${pgid}`], { timeoutMs: SUDO_KILL_TIMEOUT_MS });
    return result.exitCode === 0;
  }
}
