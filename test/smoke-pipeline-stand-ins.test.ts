// The pipeline script (scripts/e2e.mjs, what `npm run e2e` runs) driven against
// the stand-in kind, docker and kubectl (test doubles, not a real cluster):
// up → assert → smoke → logs → down, the JUnit reports in LOG_DIR, and down
// after a failed check too.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runBin } from './helpers/cli.js';
import { makeWorld, standInEnv } from './helpers/stand-ins.js';
import { junitSchemaErrors, xmllintMissing } from './fixtures/junit/xmllint.js';

const E2E = join(ROOT, 'scripts', 'e2e.mjs');
const PIPELINE_TIMEOUT_MS = 120_000;

const runPipeline = (env: Record<string, string | undefined>) => runBin([], { script: E2E, env, timeoutMs: PIPELINE_TIMEOUT_MS });

function pipelineWorld(faults: Record<string, unknown> = {}) {
  const world = makeWorld();
  world.write({ ...world.read(), smoke: faults });
  const env = standInEnv(world, { extra: { KIND_WORKERS: '1', SMOKE_SYNC_TIMEOUT: '2', SMOKE_READY_TIMEOUT: '4', KUBE_PROXY_MODE: undefined, CLUSTER_NAME: undefined } });
  const logDir = join(env.STATE_DIR as string, 'local-up-e2e', 'logs');
  return { world, env, logDir };
}

const kindVerbs = (world: ReturnType<typeof makeWorld>) => world.calls('kind').map((c) => c.argv.slice(0, 2).join(' '));

describe('the pipeline script scripts/e2e.mjs (stand-ins)', () => {
  test('up, assert, smoke, logs, down: both JUnit reports land in LOG_DIR and validate', async (t) => {
    const { world, env, logDir } = pipelineWorld();
    const result = await runPipeline(env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /e2e \(docker, KUBE_PROXY_MODE=ipvs\): up ok, assert ok, smoke ok, down ok/);
    for (const name of ['junit_ipvs.xml', 'junit_smoke.xml']) assert.ok(existsSync(join(logDir, name)), `${name} in ${logDir}`);
    assert.match(readFileSync(join(logDir, 'junit_smoke.xml'), 'utf8'), /<testsuite name="local-up smoke \(ipvs\)" tests="21" failures="0" errors="0" skipped="0"/);
    assert.ok(readdirSync(logDir).some((name) => name.startsWith('collect-')), 'local-up logs collected before down');
    const verbs = kindVerbs(world);
    assert.ok(verbs.indexOf('export logs') < verbs.indexOf('delete cluster'));
    assert.deepEqual(world.read().clusters, {});
    const missing = xmllintMissing();
    if (missing !== undefined) return t.skip(`JUnit schema validation skipped: ${missing}`);
    for (const name of ['junit_ipvs.xml', 'junit_smoke.xml']) assert.deepEqual(junitSchemaErrors(join(logDir, name)), [], name);
  });

  test('a failing smoke check: exit 1, its JUnit kept, logs collected and the cluster still deleted', async () => {
    const { world, env, logDir } = pipelineWorld({ silentBackend: 0 });
    const result = await runPipeline(env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /up ok, assert ok, smoke exit 1, down ok/);
    assert.match(readFileSync(join(logDir, 'junit_smoke.xml'), 'utf8'), /<failure message="10 of 30 requests failed: Get &quot;http:\/\/10\.96\.200\.10:80\/hostname&quot;: context deadline exceeded/);
    assert.ok(readdirSync(logDir).some((name) => name.startsWith('collect-')));
    assert.ok(kindVerbs(world).includes('delete cluster'));
    assert.deepEqual(world.read().clusters, {});
  });
});
