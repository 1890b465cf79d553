// The local provider's PKI, made by the real openssl and checked by openssl itself
// (verify -CAfile, x509 -subject -ext subjectAltName) and by reading files back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExecaRunner } from '../src/exec/execa-runner.js';
import { findExecutable } from '../src/exec/which.js';
import type { PkiInput } from '../src/providers/local/pki.js';
import { ensurePki, parseSubjectAltName, planPki, renderOpensslConfig } from '../src/providers/local/pki.js';
import { tempDir } from './helpers/cli.js';

const OPENSSL = findExecutable('openssl', process.env);
const skip = OPENSSL === null ? 'openssl is not installed' : false;
const deps = () => ({ runner: new ExecaRunner(), openssl: OPENSSL ?? 'openssl' });
const input = (certDir: string, extra: Partial<PkiInput> = {}): PkiInput => ({
  certDir,
  clusterName: 'test',
  nodeName: '127.0.0.1',
  apiHost: 'localhost',
  apiHostIp: '127.0.0.1',
  advertiseAddress: '',
  firstServiceIp: '10.96.0.1',
  dnsDomain: 'cluster.local',
  ...extra,
});
const openssl = (...args: string[]): string => execFileSync(OPENSSL ?? 'openssl', args, { encoding: 'utf8' });
const subject = (certDir: string, id: string): string => openssl('x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', join(certDir, `${id}.crt`)).trim();
const sans = (certDir: string, id: string): string => openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', join(certDir, `${id}.crt`));

describe('PKI made with openssl', { skip }, () => {
  it('every certificate chains to the CA; subjects and SANs are the planned ones; keys are 0600', async () => {
    const dir = tempDir();
    const outcome = await ensurePki(planPki(input(dir, { apiHost: 'dev.example', advertiseAddress: '192.168.7.7', nodeName: 'node-a' })), false, deps());
    assert.deepEqual(outcome.reused, []);
    assert.equal(outcome.generated.length, 11);

    const certs = readdirSync(dir).filter((f) => f.endsWith('.crt') && f !== 'ca.crt');
    assert.equal(certs.length, 9);
    for (const crt of certs) assert.equal(openssl('verify', '-CAfile', join(dir, 'ca.crt'), join(dir, crt)).trim(), `${join(dir, crt)}: OK`);

    assert.equal(subject(dir, 'client-admin'), 'subject=CN=system:admin,O=system:masters');
    assert.equal(subject(dir, 'client-kube-proxy'), 'subject=CN=system:kube-proxy');
    assert.equal(subject(dir, 'client-kubelet'), 'subject=CN=system:node:node-a,O=system:nodes');
    assert.equal(subject(dir, 'client-controller'), 'subject=CN=system:kube-controller-manager');
    assert.equal(subject(dir, 'client-scheduler'), 'subject=CN=system:kube-scheduler');
    assert.equal(subject(dir, 'client-kube-apiserver'), 'subject=CN=kube-apiserver');

    const apiSans = parseSubjectAltName(sans(dir, 'serving-kube-apiserver').split('\n')[1]);
    assert.deepEqual(apiSans.dnsNames.sort(), ['dev.example', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']);
    assert.deepEqual(apiSans.ipAddresses.sort(), ['10.96.0.1', '127.0.0.1', '192.168.7.7']);
    assert.match(openssl('x509', '-noout', '-ext', 'extendedKeyUsage', '-in', join(dir, 'serving-kube-apiserver.crt')), /TLS Web Server Authentication/);
    assert.match(openssl('x509', '-noout', '-ext', 'extendedKeyUsage', '-in', join(dir, 'client-admin.crt')), /TLS Web Client Authentication/);
    assert.match(openssl('x509', '-noout', '-ext', 'basicConstraints', '-in', join(dir, 'ca.crt')), /CA:TRUE/);

    const keys = readdirSync(dir).filter((f) => f.endsWith('.key'));
    assert.equal(keys.length, 11);
    for (const key of keys) assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, key);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.work')), [], 'the openssl work folder is removed');
    // The service-account pair: the public key is the private key's.
    assert.equal(openssl('rsa', '-in', join(dir, 'service-account.key'), '-pubout'), readFileSync(join(dir, 'service-account.pub'), 'utf8'));
  });

  it('REUSE_CERTS keeps a valid set untouched; without it everything is made anew', async () => {
    const dir = tempDir();
    const plan = planPki(input(dir));
    await ensurePki(plan, false, deps());
    const before = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const reused = await ensurePki(plan, true, deps());
    assert.deepEqual(reused.generated, []);
    assert.deepEqual(reused.notes, []);
    for (const [f, text] of Object.entries(before)) assert.equal(readFileSync(join(dir, f), 'utf8'), text, `${f} changed`);
    await ensurePki(plan, false, deps());
    assert.notEqual(readFileSync(join(dir, 'ca.crt'), 'utf8'), before['ca.crt']);
  });

  it('REUSE_CERTS regenerates what no longer fits: a changed node name, a foreign certificate, a mismatched key', async () => {
    const dir = tempDir();
    await ensurePki(planPki(input(dir)), false, deps());
    const caBefore = readFileSync(join(dir, 'ca.crt'), 'utf8');
    // A certificate from another CA in place of the scheduler's.
    const other = tempDir();
    await ensurePki(planPki(input(other)), false, deps());
    writeFileSync(join(dir, 'client-scheduler.crt'), readFileSync(join(other, 'client-scheduler.crt')));
    writeFileSync(join(dir, 'client-kube-proxy.key'), readFileSync(join(other, 'client-kube-proxy.key')));

    const outcome = await ensurePki(planPki(input(dir, { nodeName: 'renamed' })), true, deps());
    assert.deepEqual([...outcome.generated].sort(), ['client-kube-proxy', 'client-kubelet', 'client-scheduler']);
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), caBefore, 'the CA is kept');
    const notes = outcome.notes.join('\n');
    assert.match(notes, /client-kubelet is made anew: subject CN=system:node:127\.0\.0\.1, O=system:nodes differs from the planned CN=system:node:renamed/);
    assert.match(notes, /client-scheduler is made anew: not signed by ca\.crt/);
    assert.match(notes, /client-kube-proxy is made anew: the key does not belong to the certificate/);
    assert.equal(subject(dir, 'client-kubelet'), 'subject=CN=system:node:renamed,O=system:nodes');
    for (const id of ['client-kubelet', 'client-scheduler', 'client-kube-proxy']) assert.match(openssl('verify', '-CAfile', join(dir, 'ca.crt'), join(dir, `${id}.crt`)), /: OK/);
  });

  it('REUSE_CERTS makes a new CA (and so every certificate) when the CA is about to expire', async () => {
    const dir = tempDir();
    const plan = planPki(input(dir));
    await ensurePki(plan, false, deps());
    const caBefore = readFileSync(join(dir, 'ca.crt'), 'utf8');
    // Ten years less 20 days from now, the CA has under 30 days left.
    const later = new Date(Date.now() + (3650 - 20) * 86_400_000);
    const outcome = await ensurePki(plan, true, { ...deps(), now: () => later });
    assert.notEqual(readFileSync(join(dir, 'ca.crt'), 'utf8'), caBefore);
    assert.equal(outcome.generated.length, 11);
    assert.match(outcome.notes.join('\n'), /a new CA is made because ca\.crt expires on .* in less than 30 days/);
  });
});

describe('openssl configuration (pure)', () => {
  it('escapes characters the openssl config syntax treats specially and lists SANs', () => {
    const text = renderOpensslConfig({ commonName: 'a$b#c', organizations: ['o1', 'o2'] }, { id: 'x', commonName: 'a$b#c', organizations: ['o1', 'o2'], usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    assert.match(text, /^0\.O = o1$/m);
    assert.match(text, /^1\.O = o2$/m);
    assert.match(text, /^CN = a\\\$b\\#c$/m);
    assert.match(text, /^extendedKeyUsage = serverAuth$/m);
    assert.match(text, /^\[alt\]\nDNS\.1 = localhost\nIP\.1 = 127\.0\.0\.1$/m);
  });
});
