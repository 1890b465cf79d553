import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLocalUpError } from '../src/errors.js';
import { elevatedArgv, loadModules, persistContent } from '../src/kernel/load.js';
import { FakeRunner } from './helpers/fake-runner.js';
import { debianHost, devHost, fixture } from './helpers/fixture-host.js';

const tools = (present: Record<string, string>) => (name: string) => present[name] ?? null;

/** A recorded Debian kernel whose /proc/modules turns into the "after" recording once modprobe runs. */
function loadingKernel(respond: { exitCode?: number; stderr?: string } = {}) {
  const host = debianHost('before');
  const runner = new FakeRunner([
    {
      match: [],
      respond: (argv) => {
        if (argv.includes('/sbin/modprobe') && (respond.exitCode ?? 0) === 0) {
          host.files['/proc/modules'] = fixture('debian-6.1.0-56-amd64', 'proc-modules-after');
        }
        return { exitCode: respond.exitCode ?? 0, stderr: respond.stderr ?? '' };
      },
    },
  ]);
  return { host, runner };
}

async function failure(promise: Promise<unknown>): Promise<{ exitCode: number; message: string; hint: string; details: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isLocalUpError(error), String(error));
    return { exitCode: error.exitCode, message: error.message, hint: error.hint ?? '', details: error.details ?? '' };
  }
  assert.fail('expected a failure');
}

describe('modules load', () => {
  it('as root: one modprobe -a for exactly the modules that are not loaded, then verified', async () => {
    const { host, runner } = loadingKernel();
    const result = await loadModules('rr', { host, runner, elevation: { uid: 0, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe' }) } }, { persist: false });
    assert.deepEqual(runner.calls.map((c) => c.argv), [['/sbin/modprobe', '-a', '--', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']]);
    assert.deepEqual(result.after.map((s) => s.state), ['loaded', 'loaded', 'loaded', 'loaded', 'loaded']);
    assert.ok(runner.calls[0]?.options.timeoutMs !== undefined);
  });
  it('not root, no terminal: sudo -n', async () => {
    const { host, runner } = loadingKernel();
    await loadModules('rr', { host, runner, elevation: { uid: 1000, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe', sudo: '/usr/bin/sudo' }) } }, { persist: false });
    assert.deepEqual(runner.calls[0]?.argv.slice(0, 3), ['/usr/bin/sudo', '-n', '/sbin/modprobe']);
  });
  it('not root, on a terminal: sudo may prompt (terminal attached)', async () => {
    const { host, runner } = loadingKernel();
    await loadModules('rr', { host, runner, elevation: { uid: 1000, interactive: true, env: {}, findTool: tools({ modprobe: '/sbin/modprobe', sudo: '/usr/bin/sudo' }) } }, { persist: false });
    assert.deepEqual(runner.calls[0]?.argv.slice(0, 2), ['/usr/bin/sudo', '/sbin/modprobe']);
    assert.equal(runner.calls[0]?.options.stdio, 'inherit');
  });
  it('sudo wanting a password without a terminal: exit 3 with the exact command', async () => {
    const { host, runner } = loadingKernel({ exitCode: 1, stderr: 'sudo: a password is required\n' });
    const f = await failure(loadModules('rr', { host, runner, elevation: { uid: 1000, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe', sudo: '/usr/bin/sudo' }) } }, { persist: false }));
    assert.equal(f.exitCode, 3);
    assert.match(f.message, /needs root/);
    assert.match(f.hint, /sudo \/sbin\/modprobe -a -- ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack/);
  });
  it('not root and no sudo: the privilege message, nothing run', async () => {
    const { host, runner } = loadingKernel();
    const f = await failure(loadModules('rr', { host, runner, elevation: { uid: 1000, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe' }) } }, { persist: false }));
    assert.equal(f.exitCode, 3);
    assert.match(f.message, /needs root, and this user \(uid 1000\) is not root and has no sudo/);
    assert.equal(runner.calls.length, 0);
  });
  it('already loaded: nothing to run (idempotent)', async () => {
    const host = debianHost('after');
    const runner = new FakeRunner([]);
    const result = await loadModules('rr', { host, runner, elevation: { uid: 0, interactive: false, env: {} } }, { persist: false });
    assert.equal(runner.calls.length, 0);
    assert.deepEqual(result.loaded, []);
  });
  it('a scheduler module that does not exist: exit 3, nothing loaded', async () => {
    const { host, runner } = loadingKernel();
    const f = await failure(loadModules('twos', { host, runner, elevation: { uid: 0, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe' }) } }, { persist: false }));
    assert.equal(f.exitCode, 3);
    assert.match(f.message, /do not exist for Linux 6\.1\.0-56-amd64: ip_vs_twos/);
    assert.match(f.hint, /nothing was loaded/);
    assert.equal(runner.calls.length, 0);
  });
  it('a kernel that cannot load modules: says so and stops', async () => {
    const f = await failure(loadModules('rr', { host: devHost(), runner: new FakeRunner([]), elevation: { uid: 0, interactive: false, env: {} } }, { persist: false }));
    assert.equal(f.exitCode, 3);
    assert.match(f.message, /cannot load modules \(CONFIG_MODULES is not set\)/);
    assert.match(f.hint, /lab/);
  });
  it('modprobe succeeding while modules stay absent is still a failure', async () => {
    const host = debianHost('before');
    const runner = new FakeRunner([{ match: ['/sbin/modprobe'], respond: { exitCode: 0 } }]);
    const f = await failure(loadModules('rr', { host, runner, elevation: { uid: 0, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe' }) } }, { persist: false }));
    assert.match(f.message, /still not loaded: ip_vs, ip_vs_rr/);
  });
  it('modprobe failing passes its stderr on', async () => {
    const { host, runner } = loadingKernel({ exitCode: 1, stderr: 'modprobe: ERROR: could not insert \'ip_vs\': Operation not permitted\n' });
    const f = await failure(loadModules('rr', { host, runner, elevation: { uid: 0, interactive: false, env: {}, findTool: tools({ modprobe: '/sbin/modprobe' }) } }, { persist: false }));
    assert.match(f.details, /Operation not permitted/);
  });
  it('persists through sudo tee when not root, with the module list as content', async () => {
    const host = debianHost('after');
    const runner = new FakeRunner([{ match: ['/usr/bin/sudo', '-n', 'tee'], respond: { exitCode: 0 } }]);
    const result = await loadModules('rr', { host, runner, elevation: { uid: 1000, interactive: false, env: {}, findTool: tools({ sudo: '/usr/bin/sudo' }) } }, { persist: true });
    assert.equal(result.persisted, 'written');
    assert.deepEqual(runner.calls.map((c) => c.argv), [['/usr/bin/sudo', '-n', 'tee', '/etc/modules-load.d/kube-local-up-ipvs.conf']]);
    const content = runner.calls[0]?.options.input ?? '';
    assert.equal(content, persistContent(['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']));
    assert.deepEqual(content.split('\n').filter((l) => !l.startsWith('#') && l !== ''), ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']);
  });
});

describe('elevation', () => {
  it('root runs the command as is', () => {
    assert.deepEqual(elevatedArgv(['modprobe', 'x'], { uid: 0, interactive: false, env: {} }).argv, ['modprobe', 'x']);
  });
});
