// The data-plane fixture in a real VM: pods in network namespaces behind an IPVS
// virtual service in NAT mode, reached through a /32 on kube-ipvs0. One boot runs
// two instances: TCP round robin (every pod answers, in turn) and UDP with
// persistence (one pod answers everything).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podsSeen, runDataPlaneFixtures } from '../src/lab/index.js';
import { labAvailability, labDeps } from './helpers/lab.js';

const lab = await labAvailability();

describe('data-plane fixture (real VM)', { skip: lab.skip ?? false }, () => {
  it('spreads TCP rr over every pod and keeps UDP with persistence on one pod', { timeout: 1_200_000 }, async () => {
    if (lab.skip !== undefined) return;
    const { reports, run } = await runDataPlaneFixtures(
      [
        { instance: 0, pods: 3, scheduler: 'rr', protocol: 'tcp', requests: 12 },
        { instance: 1, pods: 3, scheduler: 'wrr', protocol: 'udp', persistenceSeconds: 60, requests: 9 },
      ],
      lab.machine,
      labDeps(),
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(reports.length, 2, run.stderr);
    const [tcp, udp] = reports;
    if (tcp === undefined || udp === undefined) return;

    assert.deepEqual(tcp.errors, []);
    assert.deepEqual(podsSeen(tcp), ['pod-1', 'pod-2', 'pod-3']);
    // Round robin with a new connection per request: strictly equal shares, in rotation.
    assert.deepEqual(Object.values(tcp.responses), [4, 4, 4]);
    assert.equal(new Set(tcp.sequence.slice(0, 3)).size, 3);
    assert.deepEqual(tcp.sequence.slice(3, 6), tcp.sequence.slice(0, 3));
    assert.match(tcp.ipvsadm, /^TCP {2}10\.96\.0\.10:80 rr\s*$/m);
    assert.equal(tcp.ipvsadm.match(/-> 10\.244\.0\.1[1-3]:8080\s+Masq\s+1\s/g)?.length, 3);
    // /proc/net/ip_vs shows the same service in hex (10.96.0.10:80 = 0A60000A:0050).
    assert.match(tcp.procIpVs, /^TCP {2}0A60000A:0050 rr/m);

    assert.deepEqual(udp.errors, []);
    assert.equal(udp.pods.length, 3);
    assert.equal(podsSeen(udp).length, 1, `persistence sends one client to one pod: ${JSON.stringify(udp.responses)}`);
    assert.equal(Object.values(udp.responses).reduce((a, b) => a + b, 0), 9);
    assert.ok(podsSeen(udp)[0]?.startsWith('i1-pod-'));
    assert.match(udp.ipvsadm, /^UDP {2}10\.96\.0\.11:80 wrr persistent 60\s*$/m);
  });
});
