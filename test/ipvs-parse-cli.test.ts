// `local-up ipvs parse`: exit codes, pure JSON on stdout, stdin input, missing
// files, warnings on stderr. In-process for the logic; the built bin as a real
// process for stdin and stdout purity.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { CliResult } from './helpers/cli.js';
import { ROOT, runBin, runInProcess, tempDir } from './helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'ipvsadm');
const corpus = (file: string): string => join(FIXTURES, 'corpus', file);
const handmade = (file: string): string => join(FIXTURES, 'handmade', file);

/** Runs the built CLI with text on its stdin. */
const runBinWithInput = (argv: readonly string[], input: string): Promise<CliResult> => runBin(argv, { input });

interface JsonDestination {
  address: string;
  port: number;
  forward: string;
  weight: number | null;
  activeConns: number | null;
  inactiveConns: number | null;
}
interface JsonService {
  protocol: string;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string;
  persistent: null | { timeout: number | null; unit: string };
  destinations: JsonDestination[];
}
interface JsonTable {
  format: string;
  services: JsonService[];
  unknown: string[];
  absent: string[];
}

describe('local-up ipvs parse', () => {
  test('--json prints exactly the documented shape, services sorted', async () => {
    const result = await runInProcess(['ipvs', 'parse', corpus('37-rocky8-ln-route-and-masq-wrr.txt'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const doc = JSON.parse(result.stdout) as JsonTable;
    assert.deepEqual(Object.keys(doc).sort(), ['absent', 'format', 'services', 'unknown']);
    assert.equal(doc.format, 'ipvsadm-list');
    assert.deepEqual(doc.services, [
      {
        protocol: 'TCP', address: '192.168.188.100', port: 80, fwmark: null, family: 4, scheduler: 'wlc', flags: [], persistent: null,
        destinations: [
          { address: '192.168.188.81', port: 80, forward: 'Route', weight: 1, activeConns: 0, inactiveConns: 0 },
          { address: '192.168.188.82', port: 80, forward: 'Route', weight: 1, activeConns: 0, inactiveConns: 0 },
        ],
      },
      {
        protocol: 'TCP', address: '192.168.188.200', port: 80, fwmark: null, family: 4, scheduler: 'wrr', flags: [], persistent: null,
        destinations: [{ address: '192.168.188.101', port: 8080, forward: 'Masq', weight: 3, activeConns: 0, inactiveConns: 0 }],
      },
    ]);
  });

  test('without --json: a normalised listing, sorted, IPv6 compressed', async () => {
    const result = await runInProcess(['ipvs', 'parse', corpus('32-procfs-fixture-proc-net-ip_vs.txt')]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], '# 5 services, 13 real servers (read as proc; sorted)');
    assert.equal(lines[1], '# not shown by this form: flags, pe');
    const serviceLines = lines.filter((l) => /^(TCP|UDP|SCTP|FWM) /.test(l));
    assert.deepEqual(serviceLines, ['TCP  192.168.0.22:3306 wlc', 'TCP  192.168.0.55:3306 wlc', 'TCP  192.168.0.57:3306 wlc', 'TCP  [2620::1]:80 sh', 'FWM  268439552 wlc']);
    assert.ok(lines.includes('  -> [2620::4]:80                 Route   1      1          1'));
    // Real servers sorted by address: 82.22 before 83.21 before 83.24.
    const first = lines.indexOf('TCP  192.168.0.22:3306 wlc');
    assert.deepEqual(lines.slice(first + 1, first + 4).map((l) => l.split(/ +/)[2]), ['192.168.82.22:3306', '192.168.83.21:3306', '192.168.83.24:3306']);
  });

  test('--hz turns /proc jiffies into seconds; without it the unit says jiffies', async () => {
    const withHz = await runInProcess(['ipvs', 'parse', handmade('proc-ipv6-fwm-persistence.txt'), '--hz', '250', '--json']);
    assert.equal(withHz.code, 0, withHz.stderr);
    const doc = JSON.parse(withHz.stdout) as JsonTable;
    const https = doc.services.find((s) => s.address === '10.96.0.1');
    assert.deepEqual(https?.persistent, { timeout: 10800, unit: 'seconds', netmask: null, pe: null });
    const without = await runInProcess(['ipvs', 'parse', handmade('proc-ipv6-fwm-persistence.txt')]);
    assert.match(without.stdout, /^TCP {2}10\.96\.0\.1:443 rr persistent 2700000 jiffies$/m);
  });

  test('stdin, with - and with no FILE (built bin): pure JSON on stdout', async () => {
    const text = readFileSync(handmade('save-every-option.txt'), 'utf8');
    for (const argv of [['ipvs', 'parse', '-', '--json'], ['ipvs', 'parse', '--json']]) {
      const result = await runBinWithInput(argv, text);
      assert.equal(result.code, 0, result.stderr);
      const doc = JSON.parse(result.stdout) as JsonTable;
      assert.equal(doc.format, 'ipvsadm-save');
      assert.equal(doc.services.length, 7);
      assert.deepEqual(doc.absent, ['connections']);
      const dns = doc.services.find((s) => s.protocol === 'UDP');
      assert.deepEqual(dns?.destinations, [{ address: '10.244.1.9', port: 53, forward: 'Route', weight: 3, activeConns: null, inactiveConns: null }]);
    }
  });

  test('a fork listing: exit 0, the words it adds as warnings on stderr and "unknown" in JSON', async () => {
    const result = await runBin(['ipvs', 'parse', corpus('22-dpvs-tc-ln-fullnat.txt'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as JsonTable;
    assert.equal(doc.services.length, 3);
    assert.ok(doc.unknown.some((u) => u.includes('"FullNat"')));
    assert.match(result.stderr, /^warning: .*22-dpvs-tc-ln-fullnat\.txt: line 5: forward method "FullNat"/m);
  });

  test('--stats listing: weight null in JSON, "-" in the listing', async () => {
    const json = await runInProcess(['ipvs', 'parse', corpus('40-rocky8-ln-stats-nat.txt'), '--json']);
    const doc = JSON.parse(json.stdout) as JsonTable;
    assert.ok(doc.absent.includes('weight'));
    assert.equal(doc.services[0]?.destinations[0]?.weight, null);
    const text = await runInProcess(['ipvs', 'parse', corpus('40-rocky8-ln-stats-nat.txt')]);
    assert.match(text.stdout, /^TCP {2}192\.168\.10\.100:80 -$/m);
    assert.match(text.stdout, /^ {2}-> 192\.168\.188\.82:80 +- +- +- +-$/m);
  });

  test('a missing file: exit 2 naming it, nothing on stdout', async () => {
    const result = await runBin(['ipvs', 'parse', 'no-such-table.txt', '--json']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error: no-such-table\.txt: no such file$/m);
  });

  test('a directory: exit 2', async () => {
    const result = await runInProcess(['ipvs', 'parse', tempDir()]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /is a directory/);
  });

  test("ipvsadm's error output as input: exit 2 with the cause and hint", async () => {
    const result = await runBin(['ipvs', 'parse', corpus('35-sysbox189-error-enospc.txt'), '--json']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /error: .*35-sysbox189-error-enospc\.txt: the input is ipvsadm's error output, not an IPVS table: .*permission denied/);
    assert.match(result.stderr, /^hint: run ipvsadm as root/m);
  });

  test('a connection table as input: exit 2', async () => {
    const result = await runInProcess(['ipvs', 'parse', corpus('42-rocky8-lnc-time-wait.txt')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /connection table/);
  });

  test('--format forces the reader; a wrong one is refused, an unknown one is a usage error', async () => {
    const forced = await runInProcess(['ipvs', 'parse', corpus('37-rocky8-ln-route-and-masq-wrr.txt'), '--format', 'save']);
    assert.equal(forced.code, 2);
    assert.match(forced.stderr, /not ipvsadm save format/);
    const bad = await runInProcess(['ipvs', 'parse', corpus('37-rocky8-ln-route-and-masq-wrr.txt'), '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format xml: not a known form/);
    assert.match(bad.stderr, /list .*save .*proc/);
    const proc = await runInProcess(['ipvs', 'parse', corpus('32-procfs-fixture-proc-net-ip_vs.txt'), '--format', 'proc', '--json']);
    assert.equal(proc.code, 0);
  });

  test('--hz must be a positive whole number; with non-/proc input it warns', async () => {
    for (const hz of ['0', '-5', 'abc', '2.5']) {
      const result = await runInProcess(['ipvs', 'parse', corpus('37-rocky8-ln-route-and-masq-wrr.txt'), `--hz=${hz}`]);
      assert.equal(result.code, 2, hz);
      assert.match(result.stderr, /--hz .*not a positive whole number/, hz);
    }
    const warned = await runInProcess(['ipvs', 'parse', corpus('37-rocky8-ln-route-and-masq-wrr.txt'), '--hz', '100']);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /warning: --hz applies to \/proc\/net\/ip_vs only/);
  });

  test('an empty file is an empty table, with a warning', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.txt'), '');
    const result = await runInProcess(['ipvs', 'parse', join(dir, 'empty.txt'), '--json']);
    assert.equal(result.code, 0);
    assert.deepEqual((JSON.parse(result.stdout) as JsonTable).services, []);
    assert.match(result.stderr, /is empty/);
  });

  test('more than one FILE is a usage error; --help works', async () => {
    const two = await runInProcess(['ipvs', 'parse', 'a', 'b']);
    assert.equal(two.code, 2);
    const help = await runInProcess(['ipvs', 'parse', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: local-up ipvs parse \[FILE\|-\] \[--json\] \[--format list\|save\|proc\] \[--hz N\]/);
  });
});
