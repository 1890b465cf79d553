// The pure parts of smoke: which spread each scheduler implies, the judgement
// of a probe's answers, netexec's /dial answer and URL, and the IPVS readings
// (persistence in seconds from /proc with HZ, removed destinations) on real
// recorded tables.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IPVS_SCHEDULERS } from '../src/config/settings.js';
import { readIpvsText } from '../src/ipvs/read.js';
import { evenTolerance, expectedSpread, findRemovedDestinations, judgeAnswers, judgePersistence, judgeSpread, virtualServersReaching } from '../src/smoke/analysis.js';
import { DialResponseError, dialUrl, parseDialResponse } from '../src/smoke/dial.js';
import type { DialResult } from '../src/smoke/dial.js';
import { ROOT } from './helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const smokeFixture = (name: string) => readFileSync(join(FIXTURES, 'smoke', name), 'utf8');
const BACKENDS = ['backend-a', 'backend-b', 'backend-c'];
const answers = (counts: Record<string, number>, errors: string[] = []): DialResult => ({
  responses: Object.entries(counts).flatMap(([name, n]) => Array<string>(n).fill(name)),
  errors,
  responsesOmitted: false,
});

describe('spread rules per scheduler', () => {
  test('every scheduler kube-proxy accepts has a rule, with its reason', () => {
    const rules = Object.fromEntries(IPVS_SCHEDULERS.map((s) => [s, expectedSpread('ipvs', s).rule]));
    assert.deepEqual(rules, {
      rr: 'even', wrr: 'even',
      sh: 'sticky', dh: 'sticky', lblc: 'sticky', lblcr: 'sticky',
      lc: 'coverage', wlc: 'coverage', mh: 'coverage', twos: 'coverage',
      sed: 'unconstrained', nq: 'unconstrained', fo: 'unconstrained', ovf: 'unconstrained',
    });
    assert.match(expectedSpread('ipvs', 'mh').why, /mh-port flag \(0x10\)/);
  });

  test('other modes pick at random (coverage); ClientIP affinity is sticky whatever the scheduler', () => {
    assert.equal(expectedSpread('iptables', 'sh').rule, 'coverage');
    assert.equal(expectedSpread('nftables', 'rr').rule, 'coverage');
    for (const scheduler of IPVS_SCHEDULERS) assert.equal(expectedSpread('ipvs', scheduler, true).rule, 'sticky');
    assert.equal(expectedSpread('iptables', 'rr', true).rule, 'sticky');
  });

  test('the even tolerance is max(1, ceil(n / 4k)): a missing backend or a double share never fits', () => {
    assert.equal(evenTolerance(30, 3), 3);
    assert.equal(evenTolerance(6, 3), 1);
    assert.equal(evenTolerance(100, 3), 9);
    for (let n = 6; n <= 300; n++) {
      const tolerance = evenTolerance(n, 3);
      assert.ok(n / 3 > tolerance, `n=${n}: a backend with no answer is outside ${n / 3} ± ${tolerance}`);
      assert.ok((2 * n) / 3 - n / 3 > tolerance, `n=${n}: a double share is outside the tolerance`);
    }
  });
});

describe('judging a probe', () => {
  test('even: a strict rotation passes; a skewed one names the backend and the expected share', () => {
    const rotation = judgeSpread(answers({ 'backend-a': 10, 'backend-b': 10, 'backend-c': 10 }), BACKENDS, 'even', 30);
    assert.equal(rotation.ok, true);
    assert.deepEqual(rotation.share, { expected: 10, tolerance: 3 });
    assert.equal(rotation.summary, '30 answers: backend-a 10, backend-b 10, backend-c 10');
    assert.equal(judgeSpread(answers({ 'backend-a': 13, 'backend-b': 7, 'backend-c': 10 }), BACKENDS, 'even', 30).ok, true, 'within ± 3');
    const skewed = judgeSpread(answers({ 'backend-a': 14, 'backend-b': 6, 'backend-c': 10 }), BACKENDS, 'even', 30);
    assert.equal(skewed.ok, false);
    assert.deepEqual(skewed.problems, ['backend backend-a answered 14 of 30 (expected 10 ± 3)', 'backend backend-b answered 6 of 30 (expected 10 ± 3)']);
    const missing = judgeSpread(answers({ 'backend-a': 15, 'backend-b': 15 }), BACKENDS, 'even', 30);
    assert.deepEqual(missing.problems, ['backend backend-a answered 15 of 30 (expected 10 ± 3)', 'backend backend-b answered 15 of 30 (expected 10 ± 3)', 'backend backend-c never answered in 30 requests']);
  });

  test('sticky, coverage and unconstrained', () => {
    assert.equal(judgeSpread(answers({ 'backend-b': 10 }), BACKENDS, 'sticky', 10).ok, true);
    assert.deepEqual(judgeSpread(answers({ 'backend-a': 9, 'backend-c': 1 }), BACKENDS, 'sticky', 10).problems, ['answers came from 2 backends (backend-a 9, backend-c 1); one client should stick to one']);
    assert.equal(judgeSpread(answers({ 'backend-a': 1, 'backend-b': 28, 'backend-c': 1 }), BACKENDS, 'coverage', 30).ok, true);
    assert.deepEqual(judgeSpread(answers({ 'backend-a': 29, 'backend-b': 1 }), BACKENDS, 'coverage', 30).problems, ['backend backend-c never answered in 30 requests']);
    assert.equal(judgeSpread(answers({ 'backend-a': 30 }), BACKENDS, 'unconstrained', 30).ok, true);
    // A rotation is not sticky, and one backend is not a spread: the rules tell them apart.
    assert.equal(judgeSpread(answers({ 'backend-a': 10, 'backend-b': 10, 'backend-c': 10 }), BACKENDS, 'sticky', 30).ok, false);
    assert.equal(judgeSpread(answers({ 'backend-a': 30 }), BACKENDS, 'even', 30).ok, false);
  });

  test('errors, strangers and an empty probe fail under every rule', () => {
    for (const rule of ['even', 'sticky', 'coverage', 'unconstrained'] as const) {
      const failed = judgeSpread(answers({ 'backend-a': 10, 'backend-b': 10, 'backend-c': 9 }, ['Get "http://10.96.0.20:80/hostname": context deadline exceeded']), BACKENDS, rule, 30);
      assert.equal(failed.ok, false, rule);
      assert.equal(failed.problems[0], '1 of 30 requests failed: Get "http://10.96.0.20:80/hostname": context deadline exceeded');
      assert.deepEqual(judgeSpread(answers({ 'some-other-pod': 1 }), BACKENDS, rule, 1).problems, ['answers from something that is not a smoke backend: some-other-pod']);
      assert.deepEqual(judgeSpread(answers({}), BACKENDS, rule, 3).problems, ['no answer at all']);
    }
  });

  test('judgeAnswers wants every try answered by an allowed backend', () => {
    assert.equal(judgeAnswers(answers({ 'backend-b': 6 }), ['backend-b'], 6, 6).ok, true);
    assert.deepEqual(judgeAnswers(answers({ 'backend-b': 5, 'backend-a': 1 }), ['backend-b'], 6, 6).problems, ['answers from something that is not a smoke backend: backend-a']);
    assert.deepEqual(judgeAnswers(answers({ 'backend-b': 2 }), ['backend-b'], 6, 6).problems, ['2 answers, expected at least 6']);
  });
});

describe("netexec's /dial", () => {
  test('the URL the client pod is asked for', () => {
    assert.equal(dialUrl({ protocol: 'http', host: '10.96.0.20', port: 80, tries: 30 }, 8080), 'http://127.0.0.1:8080/dial?request=hostname&protocol=http&host=10.96.0.20&port=80&tries=30');
    assert.equal(dialUrl({ protocol: 'udp', host: 'fd00::20', port: 8081, tries: 1 }, 8080), 'http://127.0.0.1:8080/dial?request=hostname&protocol=udp&host=fd00%3A%3A20&port=8081&tries=1');
    assert.throws(() => dialUrl({ protocol: 'http', host: 'x', port: 80, tries: 0 }, 8080), /bad tries/);
  });

  test('answers as netexec marshals them (keys sorted, empty lists left out)', () => {
    assert.deepEqual(parseDialResponse(smokeFixture('dial-ok.json')), { responses: ['backend-6d4cf56db6-m7q9z', 'backend-6d4cf56db6-t5w8r', 'backend-6d4cf56db6-x2k4p'], errors: [], responsesOmitted: false });
    const mixed = parseDialResponse(smokeFixture('dial-some-errors.json'));
    assert.deepEqual([mixed.responses.length, mixed.errors.length, mixed.responsesOmitted], [2, 1, false]);
    // netexec drops "responses" when the last try failed.
    const lastFailed = parseDialResponse(smokeFixture('dial-last-failed.json'));
    assert.deepEqual([lastFailed.responses.length, lastFailed.errors.length, lastFailed.responsesOmitted], [0, 1, true]);
    assert.equal(judgeSpread(lastFailed, BACKENDS, 'even', 3).problems[1], 'the last request failed, so netexec did not report the answers of the others');
  });

  test('anything else is an error carrying the text (the 400 for a name that does not resolve)', () => {
    assert.throws(() => parseDialResponse(smokeFixture('dial-bad-host.txt')), (error: unknown) => error instanceof DialResponseError && /^not a \/dial answer: host and\/or port param are invalid/.test(error.message));
    assert.throws(() => parseDialResponse('{"responses": "x"}'), /"responses" is not a list of strings/);
  });
});

describe('IPVS readings', () => {
  test('persistence in seconds from /proc with HZ (a real lab table: 600 s = 150000 jiffies at HZ 250)', () => {
    const text = readFileSync(join(FIXTURES, 'kernel', 'debian-6.1.0-56-amd64', 'proc-net-ip_vs-persistent'), 'utf8');
    assert.deepEqual(judgePersistence(readIpvsText(text, { hz: 250 }), 'TCP/10.0.0.1:80', 600), { ok: true, evidence: 'TCP/10.0.0.1:80 rr persistent 600 s' });
    assert.deepEqual(judgePersistence(readIpvsText(text, { hz: 250 }), 'TCP/10.0.0.1:80', 60), { ok: false, evidence: 'TCP/10.0.0.1:80 rr persistent 600 s, expected persistent 60 s' });
    assert.deepEqual(judgePersistence(readIpvsText(text), 'TCP/10.0.0.1:80', 600), { ok: false, evidence: "TCP/10.0.0.1:80 rr persistent 150000 jiffies: the kernel's HZ is unknown, so it cannot be read as seconds" });
    assert.equal(judgePersistence(readIpvsText(text, { hz: 250 }), 'TCP/10.0.0.2:80', 600).evidence, 'TCP/10.0.0.2:80 is not in the table');
    const plain = readIpvsText(readFileSync(join(FIXTURES, 'assert', 'proc-net-ip_vs-ok.txt'), 'utf8'), { hz: 250 });
    assert.equal(judgePersistence(plain, 'TCP/10.96.45.12:80', 60).evidence, 'TCP/10.96.45.12:80 rr is not persistent, expected persistent 60');
  });

  test('removed destinations: weight 0 drains, weight > 0 is still scheduled (a real table from kubernetes#76664)', () => {
    const table = readIpvsText(readFileSync(join(FIXTURES, 'ipvsadm', 'corpus', '13-k8s76664-ln-udp-lc-weight0.txt'), 'utf8'));
    assert.deepEqual(findRemovedDestinations(table, ['192.168.129.116']), { active: [], draining: [{ virtualServer: 'UDP/192.168.127.89:514', realServer: '192.168.129.116:514', weight: 0 }] });
    assert.deepEqual(findRemovedDestinations(table, ['192.168.128.193', '10.0.0.9']), { active: [{ virtualServer: 'UDP/192.168.127.89:514', realServer: '192.168.128.193:514', weight: 1 }], draining: [] });
    assert.deepEqual([...virtualServersReaching(table, ['192.168.128.193']).entries()], [['UDP/192.168.127.89:514', ['192.168.128.193:514 w1', '192.168.129.116:514 w0']]]);
  });
});
