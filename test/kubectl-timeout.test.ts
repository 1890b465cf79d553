// KUBECTL_TIMEOUT bounds every kubectl call of every command and provider. On an
// emulated machine (the lab VM) a plain `kubectl get` can take longer than the old
// fixed 30 s; the setting must reach each caller, not only some. Unit: the Kubectl
// adapter and the two factories (commands: kubectlForState; local provider: kubectlAt).
// Stand-ins: a kubectl that answers only after 2.5 s makes `assert`, `status`, `smoke`,
// `migrate-check` and `up` fail with KUBECTL_TIMEOUT=1, and pass with a larger one.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { Kubectl } from '../src/kube/kubectl.js';
import { kubectlAt } from '../src/providers/local/session.js';
import { ClientPodDialer } from '../src/smoke/pod-dial.js';
import type { ProviderContext } from '../src/providers/provider.js';
import { kubectlForState } from '../src/steps/cluster.js';
import { FakeRunner } from './helpers/fake-runner.js';
import { makeWorld, runCli, standInEnv } from './helpers/stand-ins.js';
import { join } from 'node:path';
import type { Io } from '../src/io/io.js';

const kubectlAnswers = () => new FakeRunner([{ match: ['/bin/kubectl'], respond: { stdout: '{"items":[]}' } }]);
const env = { PATH: '/bin', KUBECTL: '/bin/kubectl' };

describe('KUBECTL_TIMEOUT (unit)', () => {
  test('Kubectl: calls without their own deadline get the configured one; a timed-out call names the setting', async () => {
    const runner = new FakeRunner([{ match: ['kubectl', '--kubeconfig', 'kc', 'get', 'nodes'], respond: { timedOut: true } }, { match: ['kubectl'], respond: { stdout: '{}' } }]);
    const kubectl = new Kubectl({ runner, path: 'kubectl', kubeconfig: 'kc', timeoutMs: 123_000 });
    await kubectl.run(['get', 'pods']);
    await kubectl.run(['wait', 'x'], { timeoutMs: 9_000 });
    assert.deepEqual(runner.calls.map((c) => c.options.timeoutMs), [123_000, 9_000]);
    await assert.rejects(kubectl.nodes(), (error: Error & { hint?: string }) => {
      assert.match(error.message, /did not finish within 123s/);
      assert.match(error.hint ?? '', /KUBECTL_TIMEOUT/);
      return true;
    });
  });

  test('calls with timed work of their own (wait, a probe through exec) get that work plus KUBECTL_TIMEOUT, not a fixed margin', async () => {
    const runner = new FakeRunner([{ match: ['kubectl'], respond: { stdout: '{"responses":["a"],"errors":[]}' } }]);
    const kubectl = new Kubectl({ runner, path: 'kubectl', kubeconfig: 'kc', timeoutMs: 200_000 });
    assert.equal(kubectl.deadline(60_000), 260_000);
    await new ClientPodDialer(kubectl, 'ns').dial({ protocol: 'http', host: '10.96.0.5', port: 80, tries: 1 });
    const args = runner.calls[0]?.argv ?? [];
    const curlSeconds = Number(args[args.indexOf('--max-time') + 1]);
    assert.ok(curlSeconds > 0);
    // curl's own bound plus one ordinary kubectl call: exec's overhead on a slow machine.
    assert.equal(runner.calls[0]?.options.timeoutMs, curlSeconds * 1000 + 200_000);
  });

  test('kubectlForState (assert, status, smoke, migrate-check, up) and kubectlAt (local provider) use the setting', async () => {
    const runner = kubectlAnswers();
    const io = { runner, env, signal: new AbortController().signal } as unknown as Io;
    await kubectlForState(io, { kubectlTimeout: 77 }, 'kc').run(['get', 'nodes']);
    const ctx = { runner, env, signal: new AbortController().signal, settings: { kubectlTimeout: 88 }, log: { write: () => {} } } as unknown as ProviderContext;
    await kubectlAt(ctx, 'kc').run(['get', 'nodes']);
    assert.deepEqual(runner.calls.map((c) => c.options.timeoutMs), [77_000, 88_000]);
  });
});

describe('KUBECTL_TIMEOUT (stand-ins: a kubectl that answers after 2.5 s)', () => {
  const SLOW = { STANDIN_KUBECTL_DELAY_MS: '2500' };

  async function cluster() {
    const world = makeWorld();
    const env = standInEnv(world);
    const up = await runCli(['up', '--name', 'kind'], env);
    assert.equal(up.code, 0, up.stderr);
    return { world, env, kubeconfig: join(env.STATE_DIR as string, 'kind', 'kubeconfig') };
  }

  test('assert, status, smoke and migrate-check: every kubectl call is bounded by KUBECTL_TIMEOUT', async () => {
    const { env } = await cluster();
    for (const argv of [['assert', '--name', 'kind'], ['status', '--name', 'kind'], ['smoke', '--name', 'kind'], ['migrate-check', '--name', 'kind']]) {
      const result = await runCli(argv, { ...env, ...SLOW, KUBECTL_TIMEOUT: '1', SMOKE_READY_TIMEOUT: '4', SMOKE_SYNC_TIMEOUT: '2' });
      assert.notEqual(result.code, 0, `${argv[0]} passed although each kubectl call takes 2.5 s and KUBECTL_TIMEOUT=1:\n${result.stdout}`);
      assert.match(result.stdout + result.stderr, /within 1s|KUBECTL_TIMEOUT/, `${argv[0]}: ${result.stderr}`);
    }
    const patient = await runCli(['assert', '--name', 'kind'], { ...env, ...SLOW, KUBECTL_TIMEOUT: '20' });
    assert.equal(patient.code, 0, patient.stderr);
  });

  test('up (the provider waiting for kube-proxy and DNS) is bounded by KUBECTL_TIMEOUT too', async () => {
    const world = makeWorld();
    const env = standInEnv(world, { extra: { ...SLOW, KUBECTL_TIMEOUT: '1' } });
    const up = await runCli(['up', '--name', 'kind'], env);
    assert.notEqual(up.code, 0, 'up passed although each kubectl call takes 2.5 s and KUBECTL_TIMEOUT=1');
    assert.match(up.stdout + up.stderr, /within 1s|KUBECTL_TIMEOUT/);
  });
});
