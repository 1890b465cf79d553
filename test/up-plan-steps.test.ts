// `up --dry-run` prints exactly the steps `up` runs: the titles the dry run lists
// equal, in order, the titles of the steps up then executes (kind and local,
// ipvs and another mode). kind runs as a real process against the stand-ins; the
// local provider cannot run here (etcd, root), so `up` runs in-process with a
// provider named local that reaches the same stand-in cluster through kind's code.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { resolveSettings } from '../src/config/resolve.js';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import type { Runner } from '../src/exec/runner.js';
import { kindProvider } from '../src/providers/kind/kind-provider.js';
import type { Provider } from '../src/providers/provider.js';
import { runUp } from '../src/steps/up.js';
import { ROOT, captureIo, captured, runInProcess } from './helpers/cli.js';
import { makeWorld, runCli, standInEnv } from './helpers/stand-ins.js';

const MODES = ['ipvs', 'iptables'] as const;

/** The titles of the steps a plain (non-terminal) run started or skipped, in order. */
function executedTitles(stderr: string): string[] {
  return [...stderr.matchAll(/^• (.+?)(?: \.\.\.|: skipped \(.*\))$/gm)].map((m) => m[1] as string);
}

async function dryRunTitles(argv: readonly string[], env: Record<string, string | undefined>): Promise<string[]> {
  const result = await runInProcess(['up', '--dry-run', '--json', ...argv], { env });
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { steps: { title: string }[] }).steps.map((s) => s.title);
}

describe('up --dry-run lists exactly the steps up executes', () => {
  for (const mode of MODES) {
    it(`kind, KUBE_PROXY_MODE=${mode} (a real process against the stand-ins)`, async () => {
      const world = makeWorld();
      const env = standInEnv(world);
      const argv = ['--mode', mode, '--name', 'plan', '--workers', '1'];
      const planned = await dryRunTitles(argv, env);
      const result = await runCli(['up', ...argv], env);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(executedTitles(result.stderr), planned);
      assert.equal(planned.length, mode === 'ipvs' ? 6 : 4);
      // /proxyMode is proven once per node.
      const reads = world.calls('docker').filter((c) => c.argv.at(-1) === 'http://127.0.0.1:10249/proxyMode').map((c) => c.argv[1]);
      assert.deepEqual(reads.sort(), ['plan-control-plane', 'plan-worker']);
    });

    it(`local, KUBE_PROXY_MODE=${mode} (in-process; the stand-in cluster behind a provider named local)`, async () => {
      const world = makeWorld();
      const env = { ...standInEnv(world), CLUSTER_PROVIDER: 'local', KUBE_PROXY_MODE: mode, CLUSTER_NAME: 'plan' };
      const planned = await dryRunTitles([], env);
      const asLocal = { ...kindProvider, name: 'local' } as Provider;
      // The stand-ins find their world through the environment of each command.
      const real = new ExecaRunner();
      const runner: Runner = { run: (file, args, options) => real.run(file, args, { ...options, env: { ...env, ...options.env } }) };
      const capture = captureIo({ env, runner });
      const resolved = resolveSettings({ flags: {}, env, dotenv: null });
      const result = await captured(capture, (io) => runUp(io, resolved, { retain: false, reuse: false, detach: true }, asLocal));
      assert.equal(result.code, 0, result.stderr);
      assert.ok(planned.includes('Create the local cluster "plan"'), planned.join('\n'));
      assert.deepEqual(executedTitles(result.stderr), planned);
    });
  }

  it('--reuse skips the create step under its planned title', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const argv = ['--mode', 'ipvs', '--name', 'plan'];
    assert.equal((await runCli(['up', ...argv], env)).code, 0);
    const again = await runCli(['up', '--reuse', ...argv], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(executedTitles(again.stderr), await dryRunTitles(argv, env));
    assert.match(again.stderr, /^• Create the kind cluster "plan": skipped \(reusing the existing cluster \(--reuse\)\)$/m);
  });
});

describe('provider state passes explicitly (Provider.preflight returns the session create() gets)', () => {
  it('no provider or step module keeps run state in a module-level collection (a map keyed by the settings, say)', () => {
    const found: string[] = [];
    for (const dir of ['providers', 'steps']) {
      for (const entry of readdirSync(join(ROOT, 'src', dir), { withFileTypes: true, recursive: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
        const path = join(entry.parentPath, entry.name);
        for (const m of readFileSync(path, 'utf8').matchAll(/^(?:export )?(?:const|let) (\w+)[^=\n]* = new (?:WeakMap|Map|WeakSet|Set)(?:<[^\n]*>)?\(\);/gm)) found.push(`${relative(ROOT, path)}: ${m[1]}`);
      }
    }
    assert.deepEqual(found, []);
  });
});
