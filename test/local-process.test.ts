// Component processes: /proc parsing, the PID-reuse guard, and real process groups
// started, identified and stopped by LocalProcessControl.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import type { ProcessIdentity, ProcessRecord } from '../src/providers/local/process.js';
import { LocalProcessControl, decideStop, isSameProcess, parseProcStat, readIdentity } from '../src/providers/local/process.js';
import { STOP_GRACE_MS, stopRecorded } from '../src/providers/local/supervisor.js';
import { firstDead, watchComponents } from '../src/providers/local/watch.js';
import { tempDir } from './helpers/cli.js';
import { alive } from './stand-ins/local/harness.js';

const control = () => new LocalProcessControl({ runner: new ExecaRunner(), sudo: null });
/** Awaits a promise with a (ref'd) deadline: components are unref'd children, so their exit alone keeps no event loop alive. */
async function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
const waitFor = async (predicate: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('/proc/<pid>/stat', () => {
  it('counts fields after the last ")" so a command name with spaces and parentheses does not shift them', () => {
    // Field 5 (pgrp) is 4242 and field 22 (starttime) is 987654 in both.
    const plain = '4242 (kube-proxy) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 12 0 987654 800000000 5000';
    const odd = '4242 (we ird) (name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 12 0 987654 800000000 5000';
    assert.deepEqual(parseProcStat(plain), { state: 'S', pgid: 4242, startTicks: 987654 });
    assert.deepEqual(parseProcStat(odd), { state: 'S', pgid: 4242, startTicks: 987654 });
    assert.equal(parseProcStat('garbage'), null);
  });
  it('reads this very process', () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.ok(stat !== null && stat.startTicks > 0);
    assert.deepEqual(readIdentity(process.pid)?.cmdline.slice(0, 1), [process.execPath]);
  });
});

describe('the PID-reuse guard (decideStop)', () => {
  const record: ProcessRecord = { name: 'kube-proxy', pid: 4242, pgid: 4242, startTicks: 1000, argv: ['/k/kube-proxy', '--config=/c/kube-proxy.yaml'], logFile: '/l/kube-proxy.log' };
  const identity = (over: Partial<ProcessIdentity>): ProcessIdentity => ({ startTicks: 1000, pgid: 4242, state: 'S', cmdline: ['/k/kube-proxy', '--config=/c/kube-proxy.yaml'], ...over });
  it('signals the group when pid, start time and command line match', () => {
    assert.equal(decideStop(record, identity({}), [4242]).action, 'signal');
  });
  it('accepts an interpreter in front of the recorded command line (#!/usr/bin/env node scripts)', () => {
    assert.ok(isSameProcess(record, identity({ cmdline: ['node', '/k/kube-proxy', '--config=/c/kube-proxy.yaml'] })));
    assert.ok(!isSameProcess(record, identity({ cmdline: ['node', '/k/kube-proxy', '--config=/other.yaml'] })));
  });
  it('refuses when the pid now belongs to a process that started later (pid reused)', () => {
    const decision = decideStop(record, identity({ startTicks: 5000 }), [4242]);
    assert.equal(decision.action, 'refuse');
    assert.match(decision.why, /pid 4242 now belongs to another process/);
  });
  it('refuses when the command line differs even with no start time recorded', () => {
    assert.equal(decideStop({ ...record, startTicks: null }, identity({ cmdline: ['/usr/bin/vim'] }), [4242]).action, 'refuse');
  });
  it('signals a group whose leader exited but whose members live (the id cannot be reused while they do)', () => {
    const decision = decideStop(record, null, [4300, 4301]);
    assert.equal(decision.action, 'signal');
    assert.match(decision.why, /left 2 process\(es\) in its group 4242/);
  });
  it('treats a zombie leader with an empty group as gone', () => {
    assert.equal(decideStop(record, identity({ state: 'Z' }), []).action, 'gone');
    assert.equal(decideStop(record, null, []).action, 'gone');
  });
});

describe('real process groups', () => {
  it('launches into its own group with output in the log file, and stops the whole group on SIGTERM', async () => {
    const dir = tempDir();
    const log = join(dir, 'sh.log');
    // A leader that starts a child in its group and traps nothing: SIGTERM to the group ends both.
    const launched = control().launch({ name: 'group', argv: ['/bin/sh', '-c', 'echo started; sleep 300 & echo child $!; wait'], logFile: log });
    const { record } = launched;
    assert.equal(record.pgid, record.pid);
    assert.ok(record.startTicks !== null);
    await waitFor(() => /child \d+/.test(readFileSync(log, 'utf8')));
    const child = Number(/child (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
    assert.equal(readIdentity(child)?.pgid, record.pid, 'the child is in the component\'s group');
    assert.match(readFileSync(log, 'utf8'), /^# kube-local-up .*: starting \/bin\/sh -c/);
    const outcome = await stopRecorded(control(), record);
    assert.equal(outcome.result, 'stopped');
    assert.ok(!alive(child) && !alive(record.pid));
    assert.deepEqual(await within(launched.exited), { code: null, signal: 'SIGTERM' });
  });

  it('kills a component that ignores SIGTERM after the grace period', async () => {
    const dir = tempDir();
    const { record } = control().launch({ name: 'stubborn', argv: ['/bin/sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.1; done"], logFile: join(dir, 'l') });
    // The log's first line (kube-local-up's header) holds the command text: wait for the echo itself.
    await waitFor(() => /^ready$/m.test(readFileSync(join(dir, 'l'), 'utf8')));
    const started = Date.now();
    const outcome = await stopRecorded(control(), record, 500);
    assert.equal(outcome.result, 'killed');
    assert.ok(Date.now() - started >= 500);
    assert.ok(!alive(record.pid));
    assert.ok(STOP_GRACE_MS > 0);
  });

  it('does not signal a live process whose start time differs from the record (a reused pid)', async () => {
    const dir = tempDir();
    const launched = control().launch({ name: 'victim', argv: ['/bin/sleep', '300'], logFile: join(dir, 'l') });
    const forged: ProcessRecord = { ...launched.record, startTicks: (launched.record.startTicks ?? 0) - 1 };
    const outcome = await stopRecorded(control(), forged);
    assert.equal(outcome.result, 'not-signalled');
    assert.equal(outcome.decision.action, 'refuse');
    assert.ok(alive(launched.record.pid), 'the unrelated process lives on');
    await stopRecorded(control(), launched.record);
    assert.ok(!alive(launched.record.pid));
  });

  it('stops the children a dead leader left in its group', async () => {
    const dir = tempDir();
    const log = join(dir, 'l');
    const { record } = control().launch({ name: 'orphaner', argv: ['/bin/sh', '-c', 'sleep 300 & echo child $!'], logFile: log });
    await waitFor(() => /child \d+/.test(readFileSync(log, 'utf8')) && !alive(record.pid));
    const child = Number(/child (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
    assert.ok(alive(child));
    const outcome = await stopRecorded(control(), record);
    assert.equal(outcome.decision.action, 'signal');
    assert.equal(outcome.result, 'stopped');
    assert.ok(!alive(child));
  });

  it('watchComponents reports the first component that dies, and stops watching on abort', async () => {
    const dir = tempDir();
    const c = control();
    const long = c.launch({ name: 'long', argv: ['/bin/sleep', '300'], logFile: join(dir, 'a') }).record;
    const short = c.launch({ name: 'short', argv: ['/bin/sleep', '0.3'], logFile: join(dir, 'b') }).record;
    assert.equal(firstDead(c, [long]), null);
    const outcome = await watchComponents(c, [long, short], new AbortController().signal, 50);
    assert.deepEqual(outcome, { kind: 'died', record: short });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    assert.deepEqual(await watchComponents(c, [long], abort.signal, 50), { kind: 'interrupted' });
    await stopRecorded(c, long);
  });
});
