// The fast paths the 10,000-Service assert relies on (issue 12, the scale bench): IPv4 read as a
// plain number must say exactly what node's isIP says, and the orders and keys built on it must be
// the ones the slower BigInt and isIP paths gave. Input files are read whole or in chunks alike.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTextFileCapped } from '../src/cli/read-input.js';
import { canonicalAddress, compareAddresses, ipFamilyOf, ipv4Number } from '../src/kube/ip.js';
import { hostPort, virtualServerKey } from '../src/ipvs/model.js';
import { tempDir } from './helpers/cli.js';

/** Texts at the edges of dotted-quad IPv4, and some that only look like it. */
const TEXTS = [
  '0.0.0.0', '255.255.255.255', '10.244.0.1', '1.2.3.4', '192.168.50.10', '127.0.0.1',
  '256.1.1.1', '1.2.3.256', '01.2.3.4', '1.02.3.4', '1.2.3.00', '1.2.3', '1.2.3.4.5', '1..3.4', '.1.2.3', '1.2.3.',
  '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1.2.3.4/32', '1.2.3.a', '', '::', '::ffff:1.2.3.4', 'fd00::1', 'node-a', '1.2.3.4%eth0',
  '999.999.999.999', '1.2.3.2555',
];

describe('IPv4 as a number', () => {
  it('accepts exactly the texts node calls IPv4, with the value of the four octets', () => {
    for (const text of TEXTS) {
      const value = ipv4Number(text);
      assert.equal(value >= 0, isIP(text) === 4, text);
      if (value >= 0) {
        const octets = text.split('.').map(Number);
        assert.equal(value, ((octets[0] ?? 0) * 256 ** 3) + ((octets[1] ?? 0) * 256 ** 2) + ((octets[2] ?? 0) * 256) + (octets[3] ?? 0), text);
      }
    }
  });

  it('keeps the family of every text as isIP gives it (zones are not addresses)', () => {
    for (const text of TEXTS) {
      const family = isIP(text);
      assert.equal(ipFamilyOf(text), text.includes('%') || family === 0 ? null : family, text);
    }
  });

  it('orders IPv4 numerically before IPv6 before names, as before', () => {
    const sorted = ['node-b', 'fd00::2', '10.244.1.10', '10.244.0.255', '::1', '9.255.255.255', '10.244.1.9', 'node-a', '10.244.0.3']
      .sort(compareAddresses);
    assert.deepEqual(sorted, ['9.255.255.255', '10.244.0.3', '10.244.0.255', '10.244.1.9', '10.244.1.10', '::1', 'fd00::2', 'node-a', 'node-b']);
  });

  it('leaves IPv4 and names as they are in canonical form and in keys; brackets only IPv6', () => {
    assert.equal(canonicalAddress('10.96.0.1'), '10.96.0.1');
    assert.equal(canonicalAddress('[FD00:0::1]'), 'fd00::1');
    assert.equal(hostPort('10.244.0.1', 8080), '10.244.0.1:8080');
    assert.equal(hostPort('fd00::1', 8080), '[fd00::1]:8080');
    assert.equal(hostPort('node-a', 80), 'node-a:80');
    assert.equal(virtualServerKey({ protocol: 'UDP', address: 'fd00::a', port: 53 }), 'UDP/[fd00::a]:53');
    assert.equal(virtualServerKey({ protocol: 'TCP', address: '10.96.0.1', port: 443 }), 'TCP/10.96.0.1:443');
  });
});

describe('input files', () => {
  it('reads a file larger than one chunk whole, and an empty one', () => {
    const dir = tempDir('read-input-');
    const big = 'x'.repeat(3 * 1024 * 1024 + 17);
    writeFileSync(join(dir, 'big'), big);
    writeFileSync(join(dir, 'empty'), '');
    assert.equal(readTextFileCapped(join(dir, 'big'), 'big'), big);
    assert.equal(readTextFileCapped(join(dir, 'empty'), 'empty'), '');
  });

  it('refuses a file over the cap by its size, and a file that says size 0 but holds more (as /proc does) by what it read', () => {
    const dir = tempDir('read-input-');
    writeFileSync(join(dir, 'file'), 'y'.repeat(100));
    assert.throws(() => readTextFileCapped(join(dir, 'file'), '--cluster f', 99), /--cluster f is larger than/);
    assert.equal(readTextFileCapped(join(dir, 'file'), 'f', 100), 'y'.repeat(100));
    const proc = readTextFileCapped('/proc/self/status', 'status');
    assert.match(proc, /^Name:/);
    assert.throws(() => readTextFileCapped('/proc/self/status', 'status', 10), /larger than/);
  });
});
