// Shapes the real corpus lacks, read from HAND-MADE inputs in
// test/fixtures/ipvsadm/handmade (see its README.md: each row was printed with
// the printf format ipvsadm or the kernel uses), plus small inline inputs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalUpError } from '../src/errors.js';
import type { IpvsService } from '../src/ipvs/model.js';
import { detectIpvsFormat, readIpvsText, readIpvsadmListing, readIpvsadmSave, readProcIpvs } from '../src/ipvs/read.js';
import { ROOT } from './helpers/cli.js';

const HANDMADE = join(ROOT, 'test', 'fixtures', 'ipvsadm', 'handmade');
const readHandmade = (file: string): string => readFileSync(join(HANDMADE, file), 'utf8');

const dest = (address: string, port: number, forward: string, weight: number, activeConns: number | null = null, inactiveConns: number | null = null) => ({
  address,
  port,
  forward,
  weight,
  activeConns,
  inactiveConns,
});

function usageFailure(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof LocalUpError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    return true;
  });
}

describe('save format (hand-made: save-every-option.txt)', () => {
  const table = readIpvsadmSave(readHandmade('save-every-option.txt'));

  test('reads every service option and real-server switch', () => {
    assert.equal(table.format, 'ipvsadm-save');
    assert.deepEqual(table.absent, ['connections']);
    const expected: IpvsService[] = [
      {
        protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, family: 4, scheduler: 'rr', flags: [],
        persistent: { timeout: 10800, unit: 'seconds', netmask: null, pe: null },
        destinations: [dest('10.244.1.5', 8443, 'Masq', 1), dest('10.244.2.7', 8443, 'Masq', 0)],
      },
      {
        protocol: 'UDP', address: '10.96.0.10', port: 53, fwmark: null, family: 4, scheduler: 'sh', flags: ['sh-fallback', 'sh-port', 'ops'],
        persistent: { timeout: 300, unit: 'seconds', netmask: '255.255.255.0', pe: 'sip' },
        destinations: [dest('10.244.1.9', 53, 'Route', 3)],
      },
      {
        protocol: 'SCTP', address: '10.0.0.5', port: 5000, fwmark: null, family: 4, scheduler: 'wlc', flags: [], persistent: null,
        destinations: [dest('192.168.1.20', 5000, 'Tunnel', 2)],
      },
      {
        protocol: 'TCP', address: 'fd00:10:96::a', port: 80, fwmark: null, family: 6, scheduler: 'wrr', flags: [],
        persistent: { timeout: 60, unit: 'seconds', netmask: '64', pe: null },
        destinations: [dest('fd00:10:244:1::5', 8080, 'Masq', 5)],
      },
      {
        protocol: 'FWM', address: null, port: null, fwmark: 256, family: 4, scheduler: 'rr', flags: [], persistent: null,
        destinations: [dest('10.255.0.5', 0, 'Masq', 1)],
      },
      {
        protocol: 'FWM', address: null, port: null, fwmark: 1, family: 6, scheduler: 'lc', flags: [],
        persistent: { timeout: 120, unit: 'seconds', netmask: null, pe: null },
        destinations: [dest('2001:db8::10', 0, 'Route', 1)],
      },
      {
        protocol: 'TCP', address: '10.0.0.7', port: 5060, fwmark: null, family: 4, scheduler: 'rr', flags: [],
        persistent: { timeout: 30, unit: 'seconds', netmask: null, pe: 'sip' },
        destinations: [dest('10.1.0.7', 5060, 'Masq', 1)],
      },
    ];
    assert.deepEqual(table.services, expected);
    // Tunnel options and thresholds are understood (and not kept), not unknown.
    assert.deepEqual(table.unknown, []);
  });

  test('rule lines out of order, defaults, and odd options', () => {
    const t = readIpvsadmSave(
      [
        '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 2', // before its -A: joins the service once -A comes
        '-A -t 10.0.0.1:80',                          // no -s: ipvsadm's default wlc
        '-a -t 10.0.0.1:80 -r 10.1.0.2',              // no port, switch or weight: service port, Route, 1
        '-A -t 10.0.0.2:80 -s rr -p',                 // -p without seconds: 300
        '-A -t 10.0.0.3:80 -s rr --frobnicate',
        'garbage line',
      ].join('\n'),
    );
    assert.equal(t.services.length, 3);
    const [first, second, third] = t.services;
    assert.equal(first?.scheduler, 'wlc');
    assert.deepEqual(first?.destinations, [dest('10.1.0.1', 8080, 'Masq', 2), dest('10.1.0.2', 80, 'Route', 1)]);
    assert.deepEqual(second?.persistent, { timeout: 300, unit: 'seconds', netmask: null, pe: null });
    assert.equal(third?.scheduler, 'rr');
    assert.ok(t.unknown.some((u) => u.startsWith('line 1: real server for a service with no -A line')));
    assert.ok(t.unknown.some((u) => u.startsWith('line 5: option "--frobnicate" not understood')));
    assert.ok(t.unknown.some((u) => u.startsWith('line 6: line not understood: "garbage line"')));
  });
});

describe('/proc/net/ip_vs (hand-made: proc-ipv6-fwm-persistence.txt)', () => {
  const text = readHandmade('proc-ipv6-fwm-persistence.txt');

  test('with HZ: hex addresses, IPv6, FWM, ops and persistence in seconds', () => {
    const table = readProcIpvs(text, { hz: 250 });
    assert.equal(table.format, 'proc');
    assert.deepEqual(table.absent, ['flags', 'pe']);
    assert.deepEqual(table.services, [
      {
        protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, family: 4, scheduler: 'rr', flags: [],
        persistent: { timeout: 10800, unit: 'seconds', netmask: null, pe: null },
        destinations: [dest('10.244.1.5', 8443, 'Masq', 1, 0, 0)],
      },
      {
        protocol: 'UDP', address: '10.96.0.10', port: 53, fwmark: null, family: 4, scheduler: 'sh', flags: ['ops'], persistent: null,
        destinations: [dest('10.244.1.9', 53, 'Local', 0, 0, 3)],
      },
      {
        protocol: 'TCP', address: 'fd00:10:96::a', port: 80, fwmark: null, family: 6, scheduler: 'wrr', flags: [],
        // 40000000 is a /64 prefix length printed through ntohl on a little-endian host.
        persistent: { timeout: 60, unit: 'seconds', netmask: '64', pe: null },
        destinations: [dest('fd00:10:244:1::5', 8080, 'Masq', 5, 2, 1)],
      },
      {
        protocol: 'FWM', address: null, port: null, fwmark: 256, family: 4, scheduler: 'rr', flags: [], persistent: null,
        destinations: [dest('10.255.0.5', 0, 'Route', 1, 0, 0)],
      },
      {
        // The family of an FWM service shows only through its real servers.
        protocol: 'FWM', address: null, port: null, fwmark: 1, family: 6, scheduler: 'lc', flags: [],
        persistent: { timeout: 120, unit: 'seconds', netmask: null, pe: null },
        destinations: [dest('2001:db8::10', 0, 'Tunnel', 1, 0, 0)],
      },
    ]);
    assert.deepEqual(table.unknown, []);
  });

  test('without HZ, persistence stays in jiffies', () => {
    const table = readIpvsText(text);
    assert.equal(table.format, 'proc');
    assert.deepEqual(table.services.map((s) => s.persistent?.timeout ?? null), [2_700_000, null, 15_000, null, 30_000]);
    for (const s of table.services) if (s.persistent !== null) assert.equal(s.persistent.unit, 'jiffies');
  });

  test('a wrong HZ is reported, and the odd division kept', () => {
    const table = readProcIpvs(text, { hz: 7 });
    assert.equal(table.services[0]?.persistent?.timeout, 2_700_000 / 7);
    assert.ok(table.unknown.some((u) => /2700000 jiffies is not a whole number of seconds at HZ=7/.test(u)));
  });

  test('IPv6 prefix lengths are read in either byte order; other protocols are skipped and reported', () => {
    const t = readProcIpvs(
      [
        'TCP  [fd00:0000:0000:0000:0000:0000:0000:0001]:0050 rr persistent 300 00000040',
        'ICMP  0A000001:0000 rr ',
        '  -> 0A000002:0000      Masq    1      0          0         ',
        'TCP  0A000001:0050 rr persistent 300 FFFFFF00',
      ].join('\n'),
      { hz: 100 },
    );
    assert.equal(t.services.length, 2);
    assert.deepEqual(t.services[0]?.persistent, { timeout: 3, unit: 'seconds', netmask: '64', pe: null });
    assert.deepEqual(t.services[1]?.persistent, { timeout: 3, unit: 'seconds', netmask: '255.255.255.0', pe: null });
    assert.ok(t.unknown.some((u) => u.startsWith('line 2: service protocol "ICMP"')));
    assert.ok(t.unknown.some((u) => u.startsWith('line 3: real server line under a "ICMP" service (skipped)')));
  });
});

describe('ipvsadm listings (hand-made)', () => {
  test('trailing spaces stripped; SCTP, scheduler flags, mask, pe, ops, FWM and FWM IPv6', () => {
    const table = readIpvsadmListing(readHandmade('list-trailing-stripped.txt'));
    assert.deepEqual(table.absent, []);
    assert.deepEqual(table.unknown, []);
    assert.deepEqual(
      table.services.map((s) => [s.protocol, s.address, s.port, s.fwmark, s.family, s.scheduler, s.flags, s.persistent]),
      [
        ['TCP', '10.96.0.1', 443, null, 4, 'rr', [], { timeout: 10800, unit: 'seconds', netmask: null, pe: null }],
        ['UDP', '10.96.0.10', 53, null, 4, 'sh', ['sh-fallback', 'sh-port', 'ops'], { timeout: 300, unit: 'seconds', netmask: '255.255.255.0', pe: 'sip' }],
        ['SCTP', '10.0.0.5', 5000, null, 4, 'wlc', [], null],
        ['TCP', 'fd00:10:96::a', 80, null, 6, 'wrr', [], { timeout: 60, unit: 'seconds', netmask: '64', pe: null }],
        ['FWM', null, null, 256, 4, 'rr', [], null],
        ['FWM', null, null, 1, 6, 'lc', [], { timeout: 120, unit: 'seconds', netmask: null, pe: null }],
      ],
    );
    assert.deepEqual(table.services[0]?.destinations, [dest('10.244.1.5', 8443, 'Masq', 1, 0, 0), dest('10.244.2.7', 8443, 'Masq', 0, 0, 0)]);
    assert.deepEqual(table.services[3]?.destinations, [dest('fd00:10:244:1::5', 8080, 'Masq', 5, 2, 1)]);
    assert.deepEqual(table.services[5]?.destinations, [dest('2001:db8::10', 0, 'Route', 1, 0, 0)]);
  });

  test('the same table with and without trailing padding reads the same', () => {
    const stripped = readHandmade('list-trailing-stripped.txt');
    const padded = stripped
      .split('\n')
      .map((line) => (line.startsWith('  -> ') && !line.includes('RemoteAddress') ? `${line.padEnd(70)}` : line))
      .join('\n');
    assert.notEqual(padded, stripped);
    assert.deepEqual(readIpvsText(padded), readIpvsText(stripped));
  });

  test('--tun-info', () => {
    const table = readIpvsText(readHandmade('list-tun-info.txt'));
    assert.deepEqual(table.absent, []);
    assert.deepEqual(table.services[0]?.destinations, [dest('192.168.1.20', 80, 'Tunnel', 2, 0, 0), dest('192.168.1.21', 80, 'Masq', 1, 4, 7)]);
  });

  test('--thresholds: connections read, forward and weight absent', () => {
    const table = readIpvsText(readHandmade('list-thresholds.txt'));
    assert.deepEqual(table.absent, ['forward', 'weight']);
    assert.equal(table.services[0]?.scheduler, 'rr');
    assert.deepEqual(table.services[0]?.persistent, { timeout: 60, unit: 'seconds', netmask: null, pe: null });
    assert.deepEqual(table.services[0]?.destinations.map((d) => [d.address, d.activeConns, d.inactiveConns]), [
      ['192.168.1.20', 3, 9],
      ['192.168.1.21', 0, 1],
    ]);
    assert.deepEqual(table.unknown, []);
  });

  test('--persistent-conn: weight and connections read, forward absent', () => {
    const table = readIpvsText(readHandmade('list-persistent-conn.txt'));
    assert.deepEqual(table.absent, ['forward']);
    assert.deepEqual(table.services[0]?.destinations.map((d) => [d.address, d.weight, d.activeConns, d.inactiveConns]), [
      ['192.168.1.20', 2, 3, 9],
      ['192.168.1.21', 0, 0, 1],
    ]);
  });

  test('a one-service `-t` listing has no version line', () => {
    const table = readIpvsText(readHandmade('list-one-service-t.txt'));
    assert.equal(table.format, 'ipvsadm-list');
    assert.deepEqual(table.services.map((s) => [s.address, s.port, s.destinations.map((d) => d.weight)]), [['10.96.0.10', 9153, [1, 0]]]);
  });

  test('connection entries and "?" services are reported, never read as services', () => {
    const table = readIpvsText(
      [
        'TCP  10.0.0.1:80 rr',
        '  -> 10.0.0.2:80                 Masq    1      0          0',
        'TCP 133:35 ESTABLISHED 10.142.81.39:49715 10.40.25.43:18000  10.40.25.16:18000',
        '?    10.0.0.9:1 rr',
        '  -> 10.0.0.3:1                  Masq    1      0          0',
      ].join('\n'),
    );
    assert.deepEqual(table.services.map((s) => [s.address, s.destinations.length]), [['10.0.0.1', 1]]);
    assert.match(table.unknown[0] ?? '', /^line 3: a connection entry \(ipvsadm -Lnc\)/);
    assert.match(table.unknown[1] ?? '', /^line 4: service type "\?"/);
    assert.match(table.unknown[2] ?? '', /^line 5: real server line under a "\?" service \(skipped\)/);
    // Only connection rows (grep'd without their header): refused, not an empty table.
    usageFailure(() => readIpvsText('UDP 04:24  UDP         192.168.127.89:44117 192.168.127.89:514 192.168.129.116:514\n'), /not an `ipvsadm -Ln` listing/);
  });

  test('words after the scheduler that are not understood are reported, the service kept', () => {
    const table = readIpvsText('TCP  10.0.0.1:80 rr frob persistent 60\n  -> 10.0.0.2:80                 Masq    1      0          0\r\n');
    assert.equal(table.services[0]?.persistent?.timeout, 60);
    assert.equal(table.services[0]?.destinations.length, 1);
    assert.deepEqual(table.unknown, ['line 1: word "frob" after the scheduler not understood']);
  });
});

describe('format detection and refusals', () => {
  test('detects each form', () => {
    assert.equal(detectIpvsFormat(readHandmade('save-every-option.txt')), 'ipvsadm-save');
    assert.equal(detectIpvsFormat(readHandmade('proc-ipv6-fwm-persistence.txt')), 'proc');
    assert.equal(detectIpvsFormat(readHandmade('list-trailing-stripped.txt')), 'ipvsadm-list');
    // /proc lines without the title lines: the hex address tells.
    assert.equal(detectIpvsFormat('TCP  0A600001:01BB rr \n'), 'proc');
    assert.equal(detectIpvsFormat('TCP  10.96.0.1:443 rr\n'), 'ipvsadm-list');
    assert.equal(detectIpvsFormat(''), 'ipvsadm-save');
  });

  test('an empty text is an empty table (what `ipvsadm -Sn` prints for one)', () => {
    assert.deepEqual(readIpvsText(''), { format: 'ipvsadm-save', services: [], unknown: [], absent: ['connections'] });
  });

  test('a forced format that does not fit is refused, not read as an empty table', () => {
    usageFailure(() => readIpvsText(readHandmade('save-every-option.txt'), { format: 'ipvsadm-list' }), /not an `ipvsadm -Ln` listing/);
    usageFailure(() => readIpvsText('hello world\n'), /not an `ipvsadm -Ln` listing.*line 1: "hello world"/);
  });

  test('HZ must be a positive whole number', () => {
    usageFailure(() => readIpvsText('', { hz: 0 }), /HZ must be a positive whole number/);
    usageFailure(() => readIpvsText('', { hz: 2.5 }), /HZ must be a positive whole number/);
  });

  test('ipvsadm 1.31 non-root text is refused as an error output', () => {
    usageFailure(
      () => readIpvsText("Can't initialize ipvs: Permission denied (you must be root)\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"),
      /error output.*needs root/,
    );
  });
});
