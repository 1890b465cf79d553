// The IPVS state readers and `local-up assert` on the real kernel: a table is
// programmed with `ipvsadm -R` from a hand-written rule file (never from the
// expect model), read back as `ipvsadm -Ln`, `ipvsadm -Sn` and /proc/net/ip_vs
// (the three readers must agree), asserted against matching cluster JSON
// (pass), then changed with ipvsadm (a real server deleted, a scheduler
// changed) and asserted again (precise failures). One VM boot.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IpvsService, IpvsTable } from '../src/ipvs/model.js';
import { readIpvsText } from '../src/ipvs/read.js';
import { runScriptInLab } from '../src/lab/index.js';
import { ROOT } from './helpers/cli.js';
import { labAvailability, labDeps } from './helpers/lab.js';

const lab = await labAvailability();
const FIXTURES = join(ROOT, 'test', 'fixtures', 'lab-ipvs');
const ASSERT = `node bin/local-up.js assert --ipvs /proc/net/ip_vs --cluster ${FIXTURES}/cluster.json --node-name lab-node --node-ip 192.168.50.10`;

const GUEST_SCRIPT = `
set -e
section() { echo "@@section $1"; }
# Real servers need a route, and the NodePort address must be the node's own.
ip link add lab0 type dummy && ip addr add 192.168.50.10/24 dev lab0 && ip link set lab0 up
ip route add 10.244.0.0/16 dev lab0
ipvsadm -R < ${FIXTURES}/rules.txt
section hz; sed -n 's/^CONFIG_HZ=//p' /boot/config-$(uname -r)
section list; ipvsadm -Ln
section save; ipvsadm -Sn
section proc; cat /proc/net/ip_vs
set +e
section assert-pass; ${ASSERT} --hz "$(sed -n 's/^CONFIG_HZ=//p' /boot/config-$(uname -r))" --json; echo "@@exit $?"
ipvsadm -d -t 10.96.100.20:80 -r 10.244.1.6:8080
ipvsadm -E -t 10.96.0.10:53 -s wrr
section proc-changed; cat /proc/net/ip_vs
section assert-fail; ${ASSERT} --hz 250 --json; echo "@@exit $?"
section assert-fail-text; ${ASSERT} --hz 250; echo "@@exit $?"
`;

function sections(stdout: string): Map<string, { text: string; exit: number | null }> {
  const found = new Map<string, { text: string; exit: number | null }>();
  for (const chunk of stdout.split('@@section ').slice(1)) {
    const name = chunk.slice(0, chunk.indexOf('\n'));
    const body = chunk.slice(name.length + 1);
    const exit = /@@exit (\d+)\n?$/.exec(body);
    found.set(name, { text: exit === null ? body : body.slice(0, exit.index), exit: exit === null ? null : Number(exit[1]) });
  }
  return found;
}

/** What all three forms carry: address, scheduler, persistence in seconds, real servers with weights. */
function comparable(table: IpvsTable): string[] {
  return table.services
    .map((s: IpvsService) => {
      const dests = s.destinations.map((d) => `${d.address}:${d.port}/${d.forward}/w${d.weight}`).sort().join(',');
      const persistent = s.persistent === null ? '-' : `${s.persistent.timeout}${s.persistent.unit === 'seconds' ? 's' : 'j'}`;
      return `${s.protocol} ${s.address}:${s.port} ${s.scheduler} ${persistent} [${dests}]`;
    })
    .sort();
}

interface AssertJson {
  ok: boolean;
  failures: number;
  services: { label: string; ok: boolean; findings: { kind: string; severity: string; message: string }[] }[];
}

describe('IPVS state on the real kernel (real VM)', { skip: lab.skip ?? false }, () => {
  it('three readers agree, assert passes, then names a deleted real server and a changed scheduler', { timeout: 1_200_000 }, async () => {
    if (lab.skip !== undefined) return;
    const run = await runScriptInLab({ ...lab.machine, script: GUEST_SCRIPT, cwd: ROOT, env: process.env, capture: true }, labDeps());
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
    const out = sections(run.stdout ?? '');
    const text = (name: string) => {
      const s = out.get(name);
      assert.ok(s !== undefined, `no section ${name} in ${run.stdout}`);
      return s;
    };
    const hz = Number(text('hz').text.trim());
    assert.equal(hz, 250, 'Debian kernels run at HZ=250');

    const list = readIpvsText(text('list').text);
    const save = readIpvsText(text('save').text);
    const proc = readIpvsText(text('proc').text, { hz });
    assert.deepEqual([list.format, save.format, proc.format], ['ipvsadm-list', 'ipvsadm-save', 'proc']);
    assert.equal(list.services.length, 6);
    assert.deepEqual(comparable(save), comparable(list));
    assert.deepEqual(comparable(proc), comparable(list));
    const sticky = list.services.find((s) => s.address === '10.96.100.20');
    assert.deepEqual([sticky?.persistent?.timeout, sticky?.persistent?.unit], [10800, 'seconds']);
    // Without HZ, /proc's persistence stays in jiffies: 10800 s × 250.
    assert.equal(readIpvsText(text('proc').text).services.find((s) => s.address === '10.96.100.20')?.persistent?.timeout, 2_700_000);

    const pass = text('assert-pass');
    assert.equal(pass.exit, 0, pass.text);
    assert.equal((JSON.parse(pass.text) as AssertJson).ok, true);

    const changed = readIpvsText(text('proc-changed').text, { hz });
    assert.equal(changed.services.find((s) => s.address === '10.96.100.20')?.destinations.length, 2);

    const fail = text('assert-fail');
    assert.equal(fail.exit, 1, fail.text);
    const report = JSON.parse(fail.text) as AssertJson;
    assert.equal(report.ok, false);
    assert.equal(report.failures, 2);
    const findings = report.services.flatMap((s) => s.findings.map((f) => ({ ...f, label: s.label })));
    const missing = findings.find((f) => f.kind === 'missing-real-server');
    assert.ok(missing, JSON.stringify(findings));
    assert.match(missing.label, /default\/sticky/);
    assert.match(missing.message, /10\.244\.1\.6:8080/);
    const scheduler = findings.find((f) => f.kind === 'scheduler-mismatch');
    assert.ok(scheduler, JSON.stringify(findings));
    assert.match(scheduler.label, /kube-system\/kube-dns/);
    assert.match(scheduler.message, /wrr/);
    assert.equal(findings.filter((f) => f.severity === 'failure').length, 2);

    const human = text('assert-fail-text');
    assert.equal(human.exit, 1);
    assert.match(human.text, /default\/sticky/);
    assert.match(human.text, /10\.244\.1\.6:8080/);
  });
});
