// `local-up doctor` and `local-up modules load` against a real module-capable
// IPVS kernel, in ONE boot: modules loadable before, loaded after, an absent
// scheduler reported precisely, and a non-root user without sudo refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScriptInLab } from '../src/lab/index.js';
import { ROOT, runBin } from './helpers/cli.js';
import { labAvailability, labDeps } from './helpers/lab.js';

const lab = await labAvailability();

interface DoctorCheck {
  readonly id: string;
  readonly status: 'pass' | 'warn' | 'fail' | 'skip';
  readonly detail: string;
}

// Runs inside the VM as root, in the project folder. Sections are separated by @@ lines.
const GUEST_SCRIPT = `
section() { echo "@@section $1"; }
section before; node bin/local-up.js doctor --json; echo "@@exit $?"
# The throwaway VM's overlay lets us remove sudo, so "non-root without sudo" is real.
rm -f /usr/bin/sudo /bin/sudo
section nobody-load; setpriv --reuid=65534 --regid=65534 --clear-groups node bin/local-up.js modules load 2>&1; echo "@@exit $?"
section load; node bin/local-up.js modules load 2>&1; echo "@@exit $?"
section after; node bin/local-up.js doctor --json; echo "@@exit $?"
section twos; IPVS_SCHEDULER=twos node bin/local-up.js doctor --json; echo "@@exit $?"
section proc-modules; cut -d' ' -f1 /proc/modules
`;

function parseSections(stdout: string): Map<string, { text: string; exit: number | null }> {
  const sections = new Map<string, { text: string; exit: number | null }>();
  for (const chunk of stdout.split('@@section ').slice(1)) {
    const name = chunk.slice(0, chunk.indexOf('\n'));
    const body = chunk.slice(name.length + 1);
    const exit = /@@exit (\d+)\n?$/.exec(body);
    sections.set(name, { text: exit === null ? body : body.slice(0, exit.index), exit: exit === null ? null : Number(exit[1]) });
  }
  return sections;
}

const kernelChecks = (json: string): DoctorCheck[] =>
  (JSON.parse(json) as { checks: DoctorCheck[] }).checks.filter((check) => check.id.startsWith('kernel.'));

describe('doctor and modules load in a real IPVS kernel (real VM)', { skip: lab.skip ?? false }, () => {
  it('reports loadable, loads, then passes; names an absent scheduler; refuses non-root', { timeout: 1_200_000 }, async () => {
    if (lab.skip !== undefined) return;
    const run = await runScriptInLab({ ...lab.machine, script: GUEST_SCRIPT, cwd: ROOT, env: process.env, capture: true }, labDeps());
    assert.equal(run.exitCode, 0, run.stderr);
    const sections = parseSections(run.stdout ?? '');
    const section = (name: string) => {
      const found = sections.get(name);
      assert.ok(found !== undefined, `no ${name} section in:\n${run.stdout}\n${run.stderr}`);
      return found;
    };
    const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];

    const before = kernelChecks(section('before').text);
    assert.equal(before.find((c) => c.id === 'kernel.modules-support')?.status, 'pass');
    for (const name of IPVS_MODULES) {
      const check = before.find((c) => c.id === `kernel.module.${name}`);
      assert.equal(check?.status, 'warn', `${name} before loading: ${JSON.stringify(check)}`);
      assert.match(check?.detail ?? '', /loadable/);
    }

    const nobody = section('nobody-load');
    assert.equal(nobody.exit, 3, nobody.text);
    assert.match(nobody.text, /needs root/);

    const load = section('load');
    assert.equal(load.exit, 0, load.text);

    const after = kernelChecks(section('after').text);
    assert.ok(after.length >= IPVS_MODULES.length + 2);
    for (const check of after) assert.equal(check.status, 'pass', `after loading: ${JSON.stringify(check)}`);
    assert.ok(after.some((c) => c.id === 'kernel.module.nf_conntrack'));
    assert.ok(!after.some((c) => c.id.includes('nf_conntrack_ipv4')), 'nf_conntrack_ipv4 is never chosen on a 6.1 kernel');
    const loaded = section('proc-modules').text.split('\n');
    for (const name of IPVS_MODULES) assert.ok(loaded.includes(name), `${name} in /proc/modules`);
    assert.ok(!loaded.includes('nf_conntrack_ipv4'));

    const twos = kernelChecks(section('twos').text);
    const missing = twos.find((c) => c.id === 'kernel.module.ip_vs_twos');
    assert.equal(missing?.status, 'fail', JSON.stringify(missing));
    assert.match(missing?.detail ?? '', /absent/);
    assert.match(missing?.detail ?? '', /CONFIG_IP_VS_TWOS/);
    assert.equal(section('twos').exit, 1, 'doctor exits 1 when a check fails');
  });
  it('through the CLI: `lab -- sh -c "modules load && doctor --json"` exits 0 with pure JSON and every kernel. check passing', { timeout: 1_200_000 }, async () => {
    if (lab.skip !== undefined) return;
    // The command uses npx, which only adds npm's start-up (verified by hand, ~1 min slower under emulation).
    const result = await runBin(
      ['lab', '--', 'sh', '-c', 'node bin/local-up.js modules load && node bin/local-up.js doctor --json'],
      { env: { ...process.env, LAB_TIMEOUT: String(lab.machine.timeoutSeconds) }, timeoutMs: 1_100_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: DoctorCheck[] };
    assert.equal(report.ok, true);
    const kernel = report.checks.filter((c) => c.id.startsWith('kernel.'));
    assert.ok(kernel.length >= 8);
    for (const check of kernel) assert.equal(check.status, 'pass', JSON.stringify(check));
    assert.match(result.stderr, /ip_vs\s+loaded now/);
  });
});
