// /proc/net/ip_vs recorded on Debian's 6.1 kernel in the lab (test/fixtures/kernel/README.md):
// `ipvsadm -A -t 10.0.0.1:80 -s rr -p 600` shows persistence as 150000 jiffies at HZ=250.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readIpvsText } from '../src/ipvs/read.js';
import { fixture } from './helpers/fixture-host.js';

const text = fixture('debian-6.1.0-56-amd64', 'proc-net-ip_vs-persistent');

describe('a recorded /proc/net/ip_vs with persistence', () => {
  it('converts jiffies to seconds when the kernel HZ is known', () => {
    const table = readIpvsText(text, { hz: 250 });
    assert.equal(table.format, 'proc');
    assert.equal(table.services.length, 1);
    const [service] = table.services;
    assert.deepEqual([service?.protocol, service?.address, service?.port, service?.scheduler], ['TCP', '10.0.0.1', 80, 'rr']);
    assert.deepEqual([service?.persistent?.timeout, service?.persistent?.unit], [600, 'seconds']);
    assert.deepEqual(service?.destinations, []);
  });
  it('reports jiffies when HZ is unknown', () => {
    const [service] = readIpvsText(text).services;
    assert.deepEqual([service?.persistent?.timeout, service?.persistent?.unit], [150000, 'jiffies']);
  });
});
