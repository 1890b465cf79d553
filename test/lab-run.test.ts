// The lab itself, with real VMs (skipped where qemu or Debian's kernel package
// cannot be had): exit codes, separate stdout/stderr, cwd and environment pass
// through; the timeout, Ctrl-C and SIGTERM stop the VM and leave no qemu
// process and no temp folder; two labs run at once. Boots are kept few.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RUN_MARKER, runInLab } from '../src/lab/index.js';
import { cleanEnv, runBin, startBin, tempDir } from './helpers/cli.js';
import type { CliResult } from './helpers/cli.js';
import { labAvailability, labDeps, processesMentioning, qemuSkip } from './helpers/lab.js';

const lab = await labAvailability();
const skip = lab.skip ?? false;
/** Above LAB_TIMEOUT's default (600 s): the lab's own timeout must fire first, on a slow machine too. */
const VM_TEST_TIMEOUT_MS = 1_200_000;

/** An environment for `local-up lab` as a process, with its own TMPDIR so its leftovers are ours to find. */
function labEnv(extra: Record<string, string> = {}): { env: Record<string, string | undefined>; tmp: string } {
  const tmp = tempDir('lab-run-tmp-');
  if (lab.skip !== undefined) return { env: {}, tmp };
  return {
    tmp,
    env: cleanEnv({ TMPDIR: tmp, LAB_CACHE_DIR: lab.machine.cacheDir, LAB_ACCEL: lab.machine.accel, ...extra }),
  };
}

/** Nothing of a finished run may remain: no process naming its temp folder, no run folder in it. */
function assertNothingLeft(tmp: string): void {
  assert.deepEqual(processesMentioning(tmp), [], `a process still mentions ${tmp}`);
  assert.deepEqual(readdirSync(tmp), [], `${tmp} is not empty`);
}

describe('lab usage', () => {
  it('asks for a command', async () => {
    const result = await runBin(['lab'], { env: cleanEnv() });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no command given/);
    assert.match(result.stderr, /local-up lab \[options\] -- COMMAND/);
  });

  // Boots nothing and prepares nothing: it runs wherever qemu is, lab or no lab.
  it('fails clearly with --no-prepare when the kernel is not prepared', { skip: qemuSkip() }, async () => {
    const env = cleanEnv({ TMPDIR: tempDir('lab-run-tmp-') });
    const result = await runBin(['lab', '--no-prepare', '--lab-cache-dir', tempDir('lab-empty-cache-'), '--', 'true'], { env });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /lab kernel is not prepared/);
    assert.match(result.stderr, /local-up lab prepare/);
  });
});

describe('lab runs (real VM)', { skip }, () => {
  it('passes exit code, separate stdout and stderr, cwd and environment (library, capture)', { timeout: VM_TEST_TIMEOUT_MS }, async () => {
    if (lab.skip !== undefined) return;
    const cwd = tempDir('lab-cwd-');
    const weird = `a b'c"d $HOME \`x\` ü\nsecond line`;
    const result = await runInLab(
      {
        ...lab.machine,
        command: ['bash', '-c', 'echo out-1; echo err-1 >&2; pwd; printf "%s\\n" "$LAB_WEIRD"; uname -r; id -u; test -e /proc/modules && echo modules; echo out-2; exit 7'],
        cwd,
        env: { ...process.env, LAB_WEIRD: weird },
        capture: true,
      },
      labDeps(),
    );
    assert.equal(result.exitCode, 7);
    assert.equal(result.stdout, ['out-1', cwd, weird, lab.kernel.release, '0', 'modules', 'out-2', ''].join('\n'));
    assert.equal(result.stderr, 'err-1\n');
    assert.ok(result.bootMs !== null && result.bootMs > 0);
  });

  it('runs two labs at once: exit 0 and exit 5, each with its own output, nothing left (CLI)', { timeout: VM_TEST_TIMEOUT_MS }, async () => {
    const { env, tmp } = labEnv();
    const [a, b] = await Promise.all([
      runBin(['lab', '--', 'bash', '-c', 'echo from-a; ipvsadm --version >/dev/null && echo ipvsadm-ok'], { env, timeoutMs: VM_TEST_TIMEOUT_MS }),
      runBin(['lab', '--', 'bash', '-c', 'echo from-b >&2; exit 5'], { env, timeoutMs: VM_TEST_TIMEOUT_MS }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'from-a\nipvsadm-ok\n');
    assert.equal(b.code, 5, b.stderr);
    assert.equal(b.stdout, '');
    assert.match(b.stderr, /^from-b$/m);
    assertNothingLeft(tmp);
  });

  // What the feature promises, not what a fast machine prints: exit 124, a console section (a VM
  // killed after 5 s may have printed nothing yet), the VM gone long before the command would end.
  it('kills a command that outlives LAB_TIMEOUT: exit 124, console section shown, nothing left', { timeout: VM_TEST_TIMEOUT_MS }, async () => {
    const { env, tmp } = labEnv();
    const started = Date.now();
    const result = await runBin(['lab', '--lab-timeout', '5', '--', 'sleep', '3000'], { env, timeoutMs: VM_TEST_TIMEOUT_MS });
    assert.equal(result.code, 124, result.stderr);
    assert.ok(Date.now() - started < VM_TEST_TIMEOUT_MS, 'the VM was stopped at the timeout, not at the end of sleep');
    assert.match(result.stderr, /did not finish within 5s; the VM was killed/);
    assert.match(result.stderr, /^ {2}\| console:/m);
    assert.match(result.stderr, /LAB_TIMEOUT/);
    assertNothingLeft(tmp);
  });

  it('stops the VM on Ctrl-C (SIGINT) and on SIGTERM: exit 130, nothing left', { timeout: VM_TEST_TIMEOUT_MS }, async () => {
    const { env, tmp } = labEnv();
    const interrupt = async (signal: NodeJS.Signals): Promise<CliResult & { signalledAt: number }> => {
      const running = startBin(['lab', '--console', '--', 'sleep', '600'], { env, timeoutMs: VM_TEST_TIMEOUT_MS });
      let signalledAt = 0;
      const guard = setTimeout(() => running.child.kill('SIGKILL'), VM_TEST_TIMEOUT_MS / 2);
      running.child.stderr?.on('data', () => {
        // Interrupt once the command runs inside the VM.
        if (signalledAt === 0 && running.output().stderr.includes(RUN_MARKER)) {
          signalledAt = Date.now();
          running.child.kill(signal);
        }
      });
      const result = await running.result.finally(() => clearTimeout(guard));
      assert.notEqual(signalledAt, 0, `no command start seen:\n${result.stderr}`);
      return { ...result, signalledAt };
    };
    const [sigint, sigterm] = await Promise.all([interrupt('SIGINT'), interrupt('SIGTERM')]);
    for (const result of [sigint, sigterm]) {
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stderr, /interrupted: the lab VM was stopped/);
    }
    assert.match(sigint.stderr, /^interrupted: stopping and cleaning up/m);
    assert.match(sigterm.stderr, /received SIGTERM/);
    assertNothingLeft(tmp);
  });
});

describe('lab kernel cache', { skip }, () => {
  it('lab prepare --json reports the reused kernel with its paths and sizes', { timeout: VM_TEST_TIMEOUT_MS }, async () => {
    const { env } = labEnv();
    const result = await runBin(['lab', 'prepare', '--json'], { env, timeoutMs: VM_TEST_TIMEOUT_MS });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(report.reused, true);
    assert.equal(report.release, lab.skip === undefined ? lab.kernel.release : '');
    assert.equal(report.dir, join(String(env.LAB_CACHE_DIR), 'kernels', String(report.release)));
    const bytes = report.bytes as { modules: number; initrd: number; kernel: number };
    assert.ok(bytes.modules > 100 * 1024 * 1024 && bytes.initrd > 0 && bytes.kernel > 0);
  });
});
