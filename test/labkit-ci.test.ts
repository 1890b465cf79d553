// Under CI=true (or LAB_REQUIRED=1) a lab test never skips: what would be a reason to skip fails
// the run, loudly (issue 14, item 2). Proven on a real lab test file with a lab that cannot run.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cleanEnv, runBin, tempDir } from './helpers/cli.js';
import { labRequired, skipUnlessRequired } from './helpers/lab.js';

/** Runs one lab test file with node's test runner and a lab cache that cannot be created (under a regular file). */
function runLabFile(extra: Record<string, string>): Promise<{ code: number; output: string }> {
  const file = join(tempDir(), 'not-a-folder');
  writeFileSync(file, '');
  const env = cleanEnv({ LAB_CACHE_DIR: join(file, 'lab'), ...extra });
  delete env.CI;
  Object.assign(env, extra);
  return runBin([], { nodeArgs: ['--import', 'tsx', '--test', '--test-reporter=tap'], script: join('test', 'lab-dataplane.test.ts'), cwd: ROOT, env, timeoutMs: 300_000 }).then(({ code, stdout, stderr }) => ({ code, output: `${stdout}${stderr}` }));
}

describe('lab tests and CI', () => {
  it('CI=true or LAB_REQUIRED=1 turns a skip into a failure with the reason', () => {
    assert.deepEqual(skipUnlessRequired('no qemu', {}), { skip: 'no qemu' });
    assert.throws(() => skipUnlessRequired('no qemu', { CI: 'true' }), /required.*no qemu/);
    assert.throws(() => skipUnlessRequired('no qemu', { LAB_REQUIRED: '1' }), /no qemu/);
    assert.equal(labRequired({ CI: 'false' }), false);
  });
  it('a lab test file skips with the reason on a developer machine, and fails under CI=true', { timeout: 600_000 }, async () => {
    const relaxed = await runLabFile({});
    assert.equal(relaxed.code, 0, relaxed.output);
    assert.match(relaxed.output, /# SKIP no lab here: cannot create the lab cache folder/);
    const ci = await runLabFile({ CI: 'true' });
    assert.notEqual(ci.code, 0, ci.output);
    assert.match(ci.output, /the lab is required here .* cannot create the lab cache folder/);
  });
});
