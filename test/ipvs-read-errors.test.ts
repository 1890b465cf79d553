// ipvsadm failures become LocalUpErrors with a plain cause, the right exit code
// and a hint. The stderr texts of real failures come from the corpus (02, 34,
// 35, 47); the 1.31 texts and ipvs_strerror() strings follow ipvsadm-formats.md §7.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunResult } from '../src/exec/runner.js';
import { diagnoseIpvsadmText, explainIpvsadmFailure } from '../src/ipvs/ipvsadm-errors.js';
import { ROOT } from './helpers/cli.js';

const corpus = (file: string): string => readFileSync(join(ROOT, 'test', 'fixtures', 'ipvsadm', 'corpus', file), 'utf8');

function failed(fields: Partial<RunResult>): RunResult {
  return { command: 'ipvsadm -Ln', exitCode: 2, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false, notFound: false, durationMs: 5, ...fields };
}

describe('explainIpvsadmFailure', () => {
  test('ip_vs not loadable in a container (corpus 02): exit 3, load-modules hint, stderr kept', () => {
    const error = explainIpvsadmFailure(failed({ stderr: corpus('02-kpng36-error-module-not-loadable.txt') }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /^ipvsadm -Ln: IPVS is not available in this kernel: .*may not load modules.*Operation not permitted/);
    assert.match(error.hint ?? '', /local-up modules load/);
    assert.match(error.hint ?? '', /lab/);
    assert.match(error.details ?? '', /Can't initialize ipvs: Protocol not available/);
  });

  test('no /lib/modules (corpus 34)', () => {
    const error = explainIpvsadmFailure(failed({ stderr: corpus('34-gorb23-error-protocol-not-available.txt') }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /\/lib\/modules is missing/);
  });

  test('module missing from the kernel build', () => {
    const error = explainIpvsadmFailure(
      failed({ stderr: "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0-18-amd64\nCan't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" }),
    );
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /the kernel has no ip_vs module/);
  });

  test('libnl-era "No space left on device" means not root (corpus 35 and 47)', () => {
    for (const file of ['35-sysbox189-error-enospc.txt', '47-ubuntu1404-error-nonroot-enospc.txt']) {
      const error = explainIpvsadmFailure(failed({ stderr: corpus(file) }));
      assert.equal(error.exitCode, 3, file);
      assert.match(error.message, /means permission denied/, file);
      assert.match(error.hint ?? '', /as root/, file);
      assert.match(error.hint ?? '', /\/proc\/net\/ip_vs/, file);
    }
  });

  test('1.31 non-root text', () => {
    const error = explainIpvsadmFailure(failed({ stderr: "Can't initialize ipvs: Permission denied (you must be root)\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" }));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /needs root/);
  });

  test('ipvsadm missing: not found by the runner, or exit 127 through docker exec', () => {
    const direct = explainIpvsadmFailure(failed({ notFound: true, exitCode: null }));
    assert.equal(direct.exitCode, 3);
    assert.match(direct.message, /ipvsadm is not installed/);
    assert.match(direct.hint ?? '', /apt-get install ipvsadm/);
    assert.match(direct.hint ?? '', /\/proc\/net\/ip_vs/);
    const viaDocker = explainIpvsadmFailure(
      failed({ command: 'docker exec kind-control-plane ipvsadm -Ln', exitCode: 127, stderr: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "ipvsadm": executable file not found in $PATH: unknown\n' }),
    );
    assert.equal(viaDocker.exitCode, 3);
    assert.match(viaDocker.message, /not installed/);
    assert.match(viaDocker.details ?? '', /executable file not found/);
  });

  test('"Memory allocation problem" from an old ipvsadm means no such service: a failed check', () => {
    const error = explainIpvsadmFailure(failed({ command: 'ipvsadm -Ln -t 10.0.0.1:80', exitCode: 1, stderr: 'Memory allocation problem\n' }));
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /no such virtual service/);
    const modern = explainIpvsadmFailure(failed({ exitCode: 1, stderr: 'No such service\n' }));
    assert.equal(modern.exitCode, 1);
  });

  test('a scheduler the kernel lacks', () => {
    const error = explainIpvsadmFailure(failed({ command: 'ipvsadm -A -t 10.0.0.1:80 -s mh', exitCode: 255, stderr: 'Scheduler or persistence engine not found\n' }));
    assert.equal(error.exitCode, 3);
    assert.match(error.hint ?? '', /local-up modules load/);
  });

  test('a timeout, and an unknown failure keeping its stderr', () => {
    const timedOut = explainIpvsadmFailure(failed({ exitCode: null, timedOut: true }));
    assert.equal(timedOut.exitCode, 3);
    assert.match(timedOut.message, /did not finish/);
    const odd = explainIpvsadmFailure(failed({ exitCode: 1, stderr: 'something new and strange\n' }));
    assert.equal(odd.exitCode, 3);
    assert.equal(odd.message, 'ipvsadm -Ln exited with code 1: something new and strange');
    assert.equal(odd.details, 'something new and strange');
  });
});

describe('diagnoseIpvsadmText', () => {
  test('a table is not an error', () => {
    assert.equal(diagnoseIpvsadmText(corpus('37-rocky8-ln-route-and-masq-wrr.txt')), null);
  });
});
