import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ROOT, cleanEnv, runBin, tempDir } from './helpers/cli.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('local-up as a process', () => {
  it('--version prints the package version', async () => {
    const result = await runBin(['--version']);
    assert.deepEqual([result.code, result.stdout], [0, `${version}\n`]);
  });
  it('--help lists the commands; no command is a usage error', async () => {
    const help = await runBin(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /doctor\s+check whether this machine/);
    const none = await runBin([]);
    assert.equal(none.code, 2);
  });
  it('--help lists every exit code the CLI can end with (src/errors.ts)', async () => {
    const { ExitCode } = await import('../src/errors.js');
    const help = await runBin(['--help']);
    const section = help.stdout.slice(help.stdout.indexOf('Exit codes:'));
    assert.notEqual(help.stdout.indexOf('Exit codes:'), -1, help.stdout);
    for (const code of Object.values(ExitCode)) assert.match(section, new RegExp(`^\\s+${code}\\s+\\S`, 'm'), `exit code ${code} is listed`);
  });
  it('a command group without its subcommand (config, modules, ipvs, tools) exits 2 listing the subcommands', async () => {
    for (const [group, subcommands] of [['config', ['show', 'kind', 'kubeadm', 'kube-proxy']], ['modules', ['load', 'check']], ['ipvs', ['parse', 'expect']], ['tools', ['install']]] as const) {
      for (const argv of [[group], [group, 'nope']]) {
        const result = await runBin(argv);
        assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
        for (const sub of subcommands) assert.match(result.stderr, new RegExp(`local-up ${group} ${sub}\\b`), `${argv.join(' ')} lists ${sub}`);
        assert.doesNotMatch(result.stderr, /\n\s+at /);
      }
    }
  });
  it('unknown commands and options exit 2 with a hint and no stack trace', async () => {
    const unknown = await runBin(['bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command: bogus/);
    const option = await runBin(['doctor', '--bogus']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--bogus'/);
    assert.doesNotMatch(option.stderr + unknown.stderr, /\n\s+at /);
  });
  it('KUBE_PROXY_MODE=ipvss exits 2 naming the valid modes, and changes nothing', async () => {
    const result = await runBin(['up', '--dry-run'], { env: cleanEnv({ KUBE_PROXY_MODE: 'ipvss' }) });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /KUBE_PROXY_MODE="ipvss".*must be one of: iptables, ipvs, nftables/);
    assert.equal(result.stdout, '');
  });
  it('KUBE_PROXY_MODE=ipvs up --dry-run prints a plan in IPVS mode and exits 0', async () => {
    const result = await runBin(['up', '--dry-run'], { env: cleanEnv({ KUBE_PROXY_MODE: 'ipvs' }) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /KUBE_PROXY_MODE=ipvs/);
    assert.match(result.stdout, /Load the IPVS kernel modules/);
    assert.equal(result.stdout.match(/ip_vs_rr/g)?.length, 1, 'the default scheduler rr is listed once');
    assert.match(result.stdout, /Assert the IPVS table on every node/);
    assert.match(result.stdout, /nothing was started, loaded or written/);
    const json = await runBin(['up', '--dry-run', '--json', '--provider', 'local'], { env: cleanEnv({ KUBE_PROXY_MODE: 'ipvs' }) });
    const plan = JSON.parse(json.stdout) as { provider: string; mode: string; steps: { id: string }[] };
    assert.deepEqual([plan.provider, plan.mode], ['local', 'ipvs']);
    assert.deepEqual(plan.steps.map((s) => s.id), ['preflight', 'modules', 'create', 'wait', 'prove-mode', 'assert']);
  });
  it('IP_FAMILY=ipv6: the dry run shows IPv6 subnets and no IPv4 ones', async () => {
    const result = await runBin(['up', '--dry-run', '--ip-family', 'ipv6']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /service subnet fd00:10:96::\/112, pod subnet fd00:10:244::\/56, IP family ipv6/);
    assert.doesNotMatch(result.stdout, /\b\d+\.\d+\.\d+\.\d+\/\d+/);
  });
  it('an iptables plan has neither the module step nor the IPVS assertions, and says so', async () => {
    const result = await runBin(['up', '--dry-run', '--json', '--mode', 'iptables']);
    const plan = JSON.parse(result.stdout) as { mode: string; steps: { id: string; details: string[] }[] };
    assert.equal(plan.mode, 'iptables');
    assert.deepEqual(plan.steps.map((s) => s.id), ['preflight', 'create', 'wait', 'prove-mode']);
    const text = await runBin(['up', '--dry-run', '--mode', 'iptables']);
    assert.match(text.stdout, /No IPVS module loading or IPVS assertions: KUBE_PROXY_MODE=iptables\./);
  });
});

/** A root with the recorded files of a kernel without IPVS and without module support (fixtures/kernel/dev-6.18.44-fc). */
function noIpvsKernelRoot(): string {
  const root = tempDir('local-up-hostroot-');
  const d = join(ROOT, 'test', 'fixtures', 'kernel', 'dev-6.18.44-fc');
  mkdirSync(join(root, 'proc', 'sys', 'kernel'), { recursive: true });
  writeFileSync(join(root, 'proc', 'sys', 'kernel', 'osrelease'), readFileSync(join(d, 'osrelease')));
  writeFileSync(join(root, 'proc', 'config.gz'), gzipSync(readFileSync(join(d, 'config.subset'))));
  for (const name of readFileSync(join(d, 'sys-module'), 'utf8').split('\n').filter((l) => l !== '')) mkdirSync(join(root, 'sys', 'module', name), { recursive: true });
  return root;
}

describe('doctor', () => {
  // Runs everywhere: the kernel is the recorded one, read through HOST_ROOT, not whatever this machine has.
  it('reports missing IPVS support accurately (exit 1, kernel check names CONFIG_IP_VS)', async () => {
    const result = await runBin(['doctor', '--json'], { env: cleanEnv({ HOST_ROOT: noIpvsKernelRoot() }) });
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { id: string; status: string; detail: string }[] };
    assert.equal(report.ok, false);
    const ipvs = report.checks.find((c) => c.id === 'kernel.ipvs');
    assert.equal(ipvs?.status, 'fail');
    assert.match(ipvs?.detail ?? '', /CONFIG_IP_VS is not set \(\/proc\/config\.gz\)/);
    assert.equal(report.checks.find((c) => c.id === 'kernel.modules-support')?.status, 'fail');
  });
  it('--json writes nothing but JSON to stdout', async () => {
    const result = await runBin(['doctor', '--json']);
    assert.doesNotThrow(() => JSON.parse(result.stdout));
    assert.ok([0, 1].includes(result.code));
  });
});
