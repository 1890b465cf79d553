// Every real ipvsadm / /proc output in the corpus (test/fixtures/ipvsadm/corpus,
// copied from shared/data/ipvsadm-corpus; see its INDEX.md for the source of
// each) is read with readIpvsText, and what it holds is checked: counts,
// addresses, ports, weights, schedulers, flags, persistence, the words a fork
// adds, and the error outputs becoming errors.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalUpError } from '../src/errors.js';
import type { IpvsService, IpvsTable } from '../src/ipvs/model.js';
import { virtualServerKey } from '../src/ipvs/model.js';
import { readIpvsText } from '../src/ipvs/read.js';
import { ROOT } from './helpers/cli.js';

const CORPUS = join(ROOT, 'test', 'fixtures', 'ipvsadm', 'corpus');
const readCorpus = (file: string): string => readFileSync(join(CORPUS, file), 'utf8');

const destinationCount = (table: IpvsTable): number => table.services.reduce((n, s) => n + s.destinations.length, 0);

function service(table: IpvsTable, key: string): IpvsService {
  const found = table.services.filter((s) => virtualServerKey(s) === key);
  assert.equal(found.length, 1, `exactly one service ${key}; have ${table.services.map((s) => virtualServerKey(s)).join(', ')}`);
  return found[0] as IpvsService;
}

function hasUnknown(table: IpvsTable, pattern: RegExp): void {
  assert.ok(table.unknown.some((u) => pattern.test(u)), `unknown should match ${pattern}; unknown = ${JSON.stringify(table.unknown, null, 1)}`);
}

const counts = (table: IpvsTable): [number, number] => [table.services.length, destinationCount(table)];

type Case =
  | { readonly file: string; readonly check: (table: IpvsTable) => void }
  | { readonly file: string; readonly throws: { readonly exitCode: number; readonly message: RegExp; readonly hint: RegExp } };

const CONNECTION_TABLE = { exitCode: 2, message: /IPVS connection table .*not the IPVS service table/, hint: /ipvsadm -Ln/ };

const CASES: readonly Case[] = [
  {
    file: '01-kpng36-ipvsadm-nonnumeric-hostnames.txt',
    check(t) {
      assert.equal(t.format, 'ipvsadm-list');
      assert.deepEqual(counts(t), [4, 1]);
      const api = service(t, 'TCP/10.96.0.1:6443');
      assert.equal(api.scheduler, 'rr');
      // The real server's name was cut at 28 characters, port and all.
      assert.deepEqual(api.destinations, [
        { address: 'kpng-proxy-control-plane.kin', port: 0, forward: 'Masq', weight: 1, activeConns: 0, inactiveConns: 0 },
      ]);
      assert.equal(service(t, 'TCP/10.96.0.10:53').destinations.length, 0);
      assert.equal(service(t, 'UDP/10.96.0.10:53').destinations.length, 0);
      assert.equal(service(t, 'TCP/10.96.0.10:9153').destinations.length, 0);
      hasUnknown(t, /kpng-proxy-control-plane\.kin.*may be cut at ipvsadm's 28-character limit/);
      hasUnknown(t, /port name "domain" read as 53/);
      hasUnknown(t, /has no readable port: reported as port 0/);
    },
  },
  { file: '02-kpng36-error-module-not-loadable.txt', throws: { exitCode: 2, message: /error output.*IPVS is not available.*Operation not permitted/, hint: /local-up modules load/ } },
  {
    file: '04-kube-router160-ln-stats.txt',
    check(t) {
      assert.deepEqual(counts(t), [3, 10]);
      for (const column of ['scheduler', 'forward', 'weight', 'connections'] as const) assert.ok(t.absent?.includes(column), column);
      const web = service(t, 'TCP/10.3.0.42:80');
      assert.equal(web.destinations.length, 8);
      assert.deepEqual(
        web.destinations.map((d) => `${d.address}:${d.port}`),
        ['10.2.1.22:80', '10.2.1.23:80', '10.2.1.24:80', '10.2.1.25:80', '10.2.1.26:80', '10.2.1.27:80', '10.2.1.28:80', '10.2.1.29:80'],
      );
      assert.equal(web.scheduler, '');
      assert.equal(web.destinations[0]?.activeConns, null);
      assert.deepEqual(service(t, 'TCP/10.3.0.1:443').destinations.map((d) => d.address), ['172.17.4.101']);
      assert.deepEqual(t.unknown, []);
    },
  },
  {
    file: '05-kube-router415-l-nonnumeric-truncated-names.txt',
    check(t) {
      assert.deepEqual(counts(t), [8, 14]);
      // Every service name was cut at 33 characters: the port is lost, all look the same.
      for (const s of t.services) {
        assert.equal(s.address, 'ip-10-0-62-121.ec2.internal');
        assert.equal(s.port, null);
        assert.equal(s.scheduler, 'rr');
      }
      const fourth = t.services[3];
      assert.deepEqual(fourth?.destinations.map((d) => [d.address, d.port, d.activeConns, d.inactiveConns]), [
        ['100.98.125.10', 80, 2, 14],
        ['100.99.0.16', 80, 0, 14],
      ]);
      assert.deepEqual(t.services[1]?.destinations.map((d) => [d.address, d.port]), [['ip-10-0-62-92.ec2.internal', 9]]);
      assert.deepEqual(t.services[5]?.destinations.map((d) => [d.address, d.port]), [
        ['100.99.43.2', 9102],
        ['100.99.70.6', 9102],
      ]);
      hasUnknown(t, /may be cut at ipvsadm's 33-character limit/);
      hasUnknown(t, /ip-10-0-62-92\.ec2\.internal:9" may be cut at ipvsadm's 28-character limit/);
      hasUnknown(t, /port name "bacula-fd" read as 9102/);
    },
  },
  {
    file: '06-kube-vip781-ln-redacted-ipv4.txt',
    check(t) {
      assert.deepEqual(counts(t), [9, 14]);
      assert.equal(t.services[0]?.address, '<ipv4-public-prefix>.20');
      assert.equal(t.services[0]?.port, 3129);
      assert.deepEqual(service(t, 'TCP/10.8.9.0:31662').destinations.map((d) => `${d.address}:${d.port}`), ['10.8.3.199:80', '10.8.19.9:80']);
      assert.deepEqual(service(t, 'TCP/10.8.9.0:32524').destinations.map((d) => `${d.address}:${d.port}`), ['10.8.3.199:443']);
      hasUnknown(t, /"<ipv4-public-prefix>\.20" is not an IP address/);
    },
  },
  {
    file: '07-kube-vip784-ln-ipv6-long-fragment.txt',
    check(t) {
      assert.deepEqual(counts(t), [7, 11]);
      for (const s of t.services) assert.equal(s.family, 6);
      const first = t.services[0];
      assert.equal(first?.address, '<ipv6-public-prefix-1>:811::cafe:3');
      assert.equal(first?.port, 443);
      // Long bracketed addresses push the forward column right; it is still read.
      assert.deepEqual(first?.destinations.map((d) => [d.address, d.port, d.forward, d.weight]), [
        ['<ipv6-public-prefix-1>:700::66d:75b7', 443, 'Masq', 1],
        ['<ipv6-public-prefix-1>:700::44c3:c4f1', 443, 'Masq', 1],
      ]);
      // The fragment starts with two real servers whose service line was not posted.
      hasUnknown(t, /^line 1: real server line before any service line.*\(and 1 more line like it\)/);
    },
  },
  {
    file: '08-k8s89923-ln-dualstack-nodeports.txt',
    check(t) {
      assert.deepEqual(counts(t), [4, 9]);
      assert.deepEqual(service(t, 'TCP/12.0.132.28:5001').destinations.map((d) => d.address), ['11.0.0.2', '11.0.1.2', '11.0.2.2', '11.0.3.2']);
      assert.equal(service(t, 'TCP/127.0.0.1:30100').destinations.length, 3);
      assert.deepEqual(service(t, 'TCP/12.0.156.179:443').destinations[0], { address: '11.0.0.3', port: 4443, forward: 'Masq', weight: 1, activeConns: 0, inactiveConns: 0 });
      assert.deepEqual(t.unknown, []);
    },
  },
  {
    file: '10-k8s68437-ln-ipv6-cluster-bogus-ipv4.txt',
    check(t) {
      assert.deepEqual(counts(t), [3, 3]);
      const v6 = service(t, 'TCP/[fd00:4000::c698]:5001');
      assert.equal(v6.family, 6);
      assert.deepEqual(v6.destinations.map((d) => d.address), ['fd00:3000:1::2']);
      assert.equal(service(t, 'TCP/192.168.0.4:30669').destinations[0]?.address, '253.0.48.0');
      // The poster cut one real-server line and added "...".
      hasUnknown(t, /^line 10: real server line not understood: "-> \[fd00:3000:2::2\]:5001"/);
      hasUnknown(t, /^line 11: line not understood: "\.\.\."/);
    },
  },
  {
    file: '11-k8s96879-ln-grep-service-lines-ipv6.txt',
    check(t) {
      assert.deepEqual(counts(t), [8, 0]);
      // ipvsadm's wrapping comparator puts 192.168.x first; the reader keeps the input order.
      assert.deepEqual(
        t.services.map((s) => s.address),
        ['192.168.0.2', '192.168.1.2', '11.0.2.1', '127.0.0.1', '::1', '1000::1:c0a8:2', '1000::1:c0a8:102', '1100::201'],
      );
      assert.deepEqual(t.services.map((s) => s.family), [4, 4, 4, 4, 6, 6, 6, 6]);
      for (const s of t.services) assert.equal(s.port, 31201);
    },
  },
  {
    file: '13-k8s76664-ln-udp-lc-weight0.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 2]);
      const syslog = service(t, 'UDP/192.168.127.89:514');
      assert.equal(syslog.scheduler, 'lc');
      assert.deepEqual(syslog.destinations, [
        { address: '192.168.128.193', port: 514, forward: 'Masq', weight: 1, activeConns: 0, inactiveConns: 1 },
        { address: '192.168.129.116', port: 514, forward: 'Masq', weight: 0, activeConns: 0, inactiveConns: 1 },
      ]);
    },
  },
  { file: '14-k8s76664-lnc-udp-conns.txt', throws: CONNECTION_TABLE },
  {
    file: '15-k8s118784-mh-port-persistent.txt',
    check(t) {
      assert.deepEqual(counts(t), [3, 7]);
      for (const s of t.services) {
        assert.equal(s.scheduler, 'mh');
        assert.deepEqual(s.flags, ['mh-port']);
        assert.deepEqual(s.persistent, { timeout: 300, unit: 'seconds', netmask: null, pe: null });
      }
      assert.deepEqual(service(t, 'TCP/10.10.10.178:8181').destinations.map((d) => `${d.address}:${d.port}`), ['10.10.0.89:8080', '10.10.3.184:8080', '10.10.3.220:8080']);
      assert.equal(service(t, 'TCP/10.10.10.178:8183').destinations.length, 1);
      assert.deepEqual(t.unknown, []);
    },
  },
  { file: '16-k8s84041-timeout.txt', throws: { exitCode: 2, message: /IPVS timeouts .*not the IPVS service table/, hint: /ipvsadm -Ln/ } },
  {
    file: '18-kube-router564-mh-flag1-flag2-line.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 0]);
      const s = service(t, 'TCP/172.24.3.177:80');
      assert.equal(s.scheduler, 'mh');
      assert.deepEqual(s.flags, ['flag-1', 'flag-2']);
      assert.equal(s.persistent, null);
    },
  },
  { file: '19-keepalived1138-lcn-long-expire.txt', throws: CONNECTION_TABLE },
  { file: '20-keepalived98-lnc-master.txt', throws: CONNECTION_TABLE },
  { file: '21-keepalived98-lnc-backup-empty.txt', throws: CONNECTION_TABLE },
  {
    file: '22-dpvs-tc-ln-fullnat.txt',
    check(t) {
      assert.deepEqual(counts(t), [3, 3]);
      assert.equal(service(t, 'UDP/192.168.88.3:6000').scheduler, 'wlc');
      for (const s of t.services) assert.equal(s.destinations[0]?.forward, 'FullNat');
      assert.equal(service(t, 'TCP/192.168.88.2:22').destinations[0]?.address, '192.168.88.215');
      hasUnknown(t, /forward method "FullNat" is not one the kernel has.*\(and 2 more lines like it\)/);
    },
  },
  {
    file: '23-dpvs-tc-ln-stats-msuffix.txt',
    check(t) {
      // Counters like 2938M (print_largenum) do not stop the rows being read.
      assert.deepEqual(counts(t), [3, 3]);
      assert.deepEqual(t.services.map((s) => virtualServerKey(s)), ['TCP/192.168.88.1:80', 'TCP/192.168.88.2:22', 'UDP/192.168.88.3:6000']);
      assert.ok(t.absent?.includes('weight'));
      assert.deepEqual(t.unknown, []);
    },
  },
  {
    file: '24-dpvs95-ln-match-snat.txt',
    check(t) {
      // MATCH services cannot be represented: none is invented, all are reported.
      assert.deepEqual(counts(t), [0, 0]);
      assert.equal(t.unknown.filter((u) => /service type "MATCH" is not TCP, UDP, SCTP or FWM \(an ipvsadm fork's own type/.test(u)).length, 3);
      hasUnknown(t, /^line 5: real server line under a "MATCH" service \(skipped\).*SNAT.*\(and 11 more lines like it\)/);
    },
  },
  {
    file: '25-dpvs386-stats-rate-fragment.txt',
    check(t) {
      assert.deepEqual(counts(t), [3, 0]);
      for (const s of t.services) {
        assert.equal(s.address, 'VIP');
        assert.equal(s.port, 443);
      }
      hasUnknown(t, /^line 1: line not understood: "--stats"/);
      hasUnknown(t, /^line 3: line not understood: "sleep 1"/);
      hasUnknown(t, /^line 6: line not understood: "--rate"/);
    },
  },
  {
    file: '26-alibaba-lvs15-l-fullnat-nonnumeric.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 1]);
      const s = service(t, 'TCP/10.10.11.77:80');
      assert.equal(s.scheduler, 'rr');
      assert.deepEqual(s.destinations, [{ address: '10.10.11.66', port: 80, forward: 'FullNat', weight: 100, activeConns: 0, inactiveConns: 0 }]);
      hasUnknown(t, /port name "http" read as 80/);
      hasUnknown(t, /"FullNat"/);
    },
  },
  {
    file: '27-alibaba-lvs15-save-nonnumeric-null.txt',
    check(t) {
      assert.equal(t.format, 'ipvsadm-save');
      assert.deepEqual(counts(t), [1, 1]);
      const s = service(t, 'TCP/10.10.11.77:80');
      assert.equal(s.scheduler, 'rr');
      assert.deepEqual(s.destinations, [{ address: '10.10.11.66', port: 80, forward: '(null)', weight: 100, activeConns: null, inactiveConns: null }]);
      assert.deepEqual(t.absent, ['connections']);
      hasUnknown(t, /port name "http" read as 80 \(save with -n/);
      hasUnknown(t, /forwarding switch "\(null\)"/);
    },
  },
  {
    file: '28-alibaba-lvs15-save-numeric-null.txt',
    check(t) {
      assert.equal(t.format, 'ipvsadm-save');
      assert.deepEqual(counts(t), [1, 1]);
      assert.deepEqual(service(t, 'TCP/10.10.11.77:80').destinations[0], { address: '10.10.11.66', port: 80, forward: '(null)', weight: 100, activeConns: null, inactiveConns: null });
      assert.equal(t.unknown.length, 1);
      hasUnknown(t, /^line 2: forwarding switch "\(null\)"/);
    },
  },
  {
    file: '29-lolbalancer-l-nonnumeric.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 3]);
      const s = service(t, 'TCP/localhost:8080');
      assert.deepEqual(s.destinations.map((d) => [d.address, d.port, d.inactiveConns]), [
        ['paulczarlaptop', 32768, 1],
        ['paulczarlaptop', 32769, 1],
        ['paulczarlaptop', 32770, 0],
      ]);
      hasUnknown(t, /port name "http-alt" read as 8080/);
    },
  },
  {
    file: '30-lolbalancer-ln-stats.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 2]);
      assert.deepEqual(service(t, 'TCP/127.0.0.1:8080').destinations.map((d) => d.port), [32776, 32777]);
      assert.ok(t.absent?.includes('scheduler'));
    },
  },
  {
    file: '31-lolbalancer-ln-rate.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 3]);
      assert.deepEqual(service(t, 'TCP/127.0.0.1:8080').destinations.map((d) => d.port), [32776, 32777, 32778]);
      assert.ok(t.absent?.includes('weight'));
    },
  },
  {
    file: '32-procfs-fixture-proc-net-ip_vs.txt',
    check(t) {
      assert.equal(t.format, 'proc');
      assert.deepEqual(counts(t), [5, 13]);
      assert.deepEqual(t.absent, ['flags', 'pe']);
      const mysql = service(t, 'TCP/192.168.0.22:3306');
      assert.equal(mysql.scheduler, 'wlc');
      assert.deepEqual(mysql.destinations, [
        { address: '192.168.82.22', port: 3306, forward: 'Tunnel', weight: 100, activeConns: 248, inactiveConns: 2 },
        { address: '192.168.83.24', port: 3306, forward: 'Tunnel', weight: 100, activeConns: 248, inactiveConns: 2 },
        { address: '192.168.83.21', port: 3306, forward: 'Tunnel', weight: 100, activeConns: 248, inactiveConns: 1 },
      ]);
      assert.deepEqual(service(t, 'TCP/192.168.0.57:3306').destinations.map((d) => [d.address, d.weight, d.activeConns]), [
        ['192.168.84.22', 0, 0],
        ['192.168.82.21', 100, 1499],
        ['192.168.50.21', 100, 1498],
      ]);
      const v6 = service(t, 'TCP/[2620::1]:80');
      assert.equal(v6.family, 6);
      assert.equal(v6.scheduler, 'sh');
      assert.deepEqual(v6.destinations.map((d) => [d.address, d.port, d.forward, d.activeConns, d.inactiveConns]), [
        ['2620::2', 80, 'Route', 0, 0],
        ['2620::3', 80, 'Route', 0, 0],
        ['2620::4', 80, 'Route', 1, 1],
      ]);
      // The fwmark is hex in /proc: 10001000 is 268439552.
      const fwm = service(t, 'FWM/268439552');
      assert.equal(fwm.family, 4);
      assert.deepEqual(fwm.destinations.map((d) => [d.address, d.port, d.forward, d.weight, d.inactiveConns]), [
        ['192.168.50.26', 3306, 'Route', 0, 1],
        ['192.168.50.21', 3306, 'Route', 0, 2],
      ]);
      assert.deepEqual(t.unknown, []);
    },
  },
  { file: '33-procfs-fixture-proc-net-ip_vs_stats.txt', throws: { exitCode: 2, message: /IPVS counters from \/proc\/net\/ip_vs_stats/, hint: /\/proc\/net\/ip_vs/ } },
  { file: '34-gorb23-error-protocol-not-available.txt', throws: { exitCode: 2, message: /error output.*IPVS is not available.*\/lib\/modules is missing/, hint: /local-up modules load/ } },
  { file: '35-sysbox189-error-enospc.txt', throws: { exitCode: 2, message: /error output.*"No space left on device".*means permission denied/, hint: /as root/ } },
  {
    file: '37-rocky8-ln-route-and-masq-wrr.txt',
    check(t) {
      assert.deepEqual(counts(t), [2, 3]);
      assert.equal(service(t, 'TCP/192.168.188.100:80').scheduler, 'wlc');
      assert.deepEqual(service(t, 'TCP/192.168.188.100:80').destinations.map((d) => [d.address, d.forward]), [
        ['192.168.188.81', 'Route'],
        ['192.168.188.82', 'Route'],
      ]);
      const nat = service(t, 'TCP/192.168.188.200:80');
      assert.equal(nat.scheduler, 'wrr');
      assert.deepEqual(nat.destinations, [{ address: '192.168.188.101', port: 8080, forward: 'Masq', weight: 3, activeConns: 0, inactiveConns: 0 }]);
      assert.deepEqual(t.unknown, []);
    },
  },
  {
    file: '38-rocky8-ln-empty-table.txt',
    check(t) {
      // Headers only: a real, empty table (not an error).
      assert.equal(t.format, 'ipvsadm-list');
      assert.deepEqual(counts(t), [0, 0]);
      assert.deepEqual(t.unknown, []);
    },
  },
  {
    file: '40-rocky8-ln-stats-nat.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 2]);
      assert.deepEqual(service(t, 'TCP/192.168.10.100:80').destinations.map((d) => d.address), ['192.168.188.82', '192.168.188.83']);
    },
  },
  { file: '42-rocky8-lnc-time-wait.txt', throws: CONNECTION_TABLE },
  { file: '44-rocky8-lnc-established.txt', throws: CONNECTION_TABLE },
  { file: '46-ubuntu1404-lcn-persistence-templates.txt', throws: CONNECTION_TABLE },
  { file: '47-ubuntu1404-error-nonroot-enospc.txt', throws: { exitCode: 2, message: /error output.*means permission denied/, hint: /as root/ } },
  { file: '48-mpipvscpustat-proc-net-ip_vs_stats_percpu.txt', throws: { exitCode: 2, message: /IPVS counters/, hint: /ipvsadm -Ln/ } },
  {
    file: '50-dr-l-nonnumeric-hostname.txt',
    check(t) {
      assert.deepEqual(counts(t), [1, 2]);
      const s = service(t, 'TCP/192.168.29.158:80');
      assert.equal(s.scheduler, 'wrr');
      assert.deepEqual(s.destinations.map((d) => [d.address, d.port, d.forward]), [
        ['192.168.29.151', 80, 'Route'],
        ['txy', 80, 'Route'],
      ]);
      hasUnknown(t, /"txy" is not an IP address/);
    },
  },
  { file: '52-go-comment-proc-net-ip_vs_conn.txt', throws: { exitCode: 2, message: /connection table from \/proc\/net\/ip_vs_conn/, hint: /ipvsadm -Ln/ } },
];

describe('corpus of real IPVS outputs', () => {
  test('every corpus file has a case below', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.txt')).sort();
    assert.deepEqual(CASES.map((c) => c.file).sort(), files);
  });

  for (const c of CASES) {
    test(c.file, () => {
      const text = readCorpus(c.file);
      if ('throws' in c) {
        assert.throws(
          () => readIpvsText(text),
          (error: unknown) => {
            assert.ok(error instanceof LocalUpError, `a LocalUpError, got ${String(error)}`);
            assert.equal(error.exitCode, c.throws.exitCode);
            assert.match(error.message, c.throws.message);
            assert.match(error.hint ?? '', c.throws.hint);
            return true;
          },
        );
      } else {
        c.check(readIpvsText(text));
      }
    });
  }
});
