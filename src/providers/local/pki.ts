// The cluster's PKI, made with openssl through the Runner: one CA, serving
// certificates (API server, controller-manager, scheduler), client certificates
// for every identity the components use, and the service-account key pair.
// planPki() and the openssl argv builders are pure; ensurePki() runs them, and
// with REUSE_CERTS keeps a set only when it still chains to the CA, matches the
// plan and is not about to expire.
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ExitCode, LocalUpError } from '../../errors.js';
import { canonicalAddress } from '../../kube/ip.js';
import type { Runner } from '../../exec/runner.js';
import { describeFailure, tail } from '../../exec/runner.js';

const OPENSSL_TIMEOUT_MS = 60_000;
export const CA_DAYS = 3650;
export const LEAF_DAYS = 365;
/** A reused certificate must stay valid at least this long. */
export const REUSE_MIN_REMAINING_DAYS = 30;
const KEY_BITS = 2048;

export type CertUsage = 'server' | 'client';

export interface CertSpec {
  /** File stem in CERT_DIR: <id>.crt and <id>.key. */
  readonly id: string;
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly usage: CertUsage;
  /** Subject alternative names (serving certificates only), sorted as planned. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

export interface PkiPlan {
  readonly certDir: string;
  readonly caCommonName: string;
  readonly certs: readonly CertSpec[];
}

export interface PkiInput {
  readonly certDir: string;
  readonly clusterName: string;
  readonly nodeName: string;
  readonly apiHost: string;
  readonly apiHostIp: string;
  readonly advertiseAddress: string;
  /** The first address of the service range: the kubernetes Service's ClusterIP. */
  readonly firstServiceIp: string;
  readonly dnsDomain: string;
}

export const caCertPath = (certDir: string): string => join(certDir, 'ca.crt');
export const caKeyPath = (certDir: string): string => join(certDir, 'ca.key');
export const certPath = (certDir: string, id: string): string => join(certDir, `${id}.crt`);
export const keyPath = (certDir: string, id: string): string => join(certDir, `${id}.key`);
export const serviceAccountKeyPath = (certDir: string): string => join(certDir, 'service-account.key');
export const serviceAccountPubPath = (certDir: string): string => join(certDir, 'service-account.pub');

/** The identities and their certificates. Names follow local-up-cluster.sh's (client-admin, serving-kube-apiserver...). */
export function planPki(input: PkiInput): PkiPlan {
  const unique = (values: readonly string[]) => [...new Set(values.filter((v) => v !== ''))];
  const apiIps = unique([input.firstServiceIp, '127.0.0.1', input.apiHostIp, input.advertiseAddress, isIP(input.apiHost) !== 0 ? input.apiHost : '']);
  const apiDns = unique([
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${input.dnsDomain}`,
    'localhost',
    isIP(input.apiHost) === 0 ? input.apiHost : '',
  ]);
  const client = (id: string, commonName: string, organizations: string[] = []): CertSpec => ({ id: `client-${id}`, commonName, organizations, usage: 'client', dnsNames: [], ipAddresses: [] });
  const local = (id: string, commonName: string): CertSpec => ({ id: `serving-${id}`, commonName, organizations: [], usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  return {
    certDir: input.certDir,
    caCommonName: `kube-local-up-ca-${input.clusterName}`,
    certs: [
      { id: 'serving-kube-apiserver', commonName: 'kube-apiserver', organizations: [], usage: 'server', dnsNames: apiDns, ipAddresses: apiIps },
      local('kube-controller-manager', 'kube-controller-manager'),
      local('kube-scheduler', 'kube-scheduler'),
      client('admin', 'system:admin', ['system:masters']),
      client('kube-apiserver', 'kube-apiserver'),
      client('controller', 'system:kube-controller-manager'),
      client('scheduler', 'system:kube-scheduler'),
      client('kubelet', `system:node:${input.nodeName}`, ['system:nodes']),
      client('kube-proxy', 'system:kube-proxy'),
    ],
  };
}

/** openssl config values: a backslash escapes characters the config syntax treats specially. */
function configValue(value: string): string {
  return value.replace(/[\\$"#;]/g, (c) => `\\${c}`);
}

/** The openssl config for one certificate (or the CA): subject and v3 extensions. Self-contained: no system openssl.cnf. */
export function renderOpensslConfig(subject: { commonName: string; organizations: readonly string[] }, extensions: 'ca' | CertSpec): string {
  const lines = ['[req]', 'distinguished_name = dn', 'prompt = no', 'utf8 = yes', '', '[dn]'];
  subject.organizations.forEach((o, i) => lines.push(`${i}.O = ${configValue(o)}`));
  lines.push(`CN = ${configValue(subject.commonName)}`, '', '[ext]');
  if (extensions === 'ca') {
    lines.push('basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash');
    return `${lines.join('\n')}\n`;
  }
  lines.push('basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment');
  lines.push(`extendedKeyUsage = ${extensions.usage === 'server' ? 'serverAuth' : 'clientAuth'}`);
  lines.push('authorityKeyIdentifier = keyid');
  if (extensions.dnsNames.length + extensions.ipAddresses.length > 0) {
    lines.push('subjectAltName = @alt', '', '[alt]');
    extensions.dnsNames.forEach((name, i) => lines.push(`DNS.${i + 1} = ${configValue(name)}`));
    extensions.ipAddresses.forEach((ip, i) => lines.push(`IP.${i + 1} = ${ip}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The openssl runs that make the CA (key and self-signed certificate in one). */
export function caArgv(certDir: string, configFile: string): string[] {
  return ['req', '-x509', '-new', '-newkey', `rsa:${KEY_BITS}`, '-nodes', '-sha256', '-days', String(CA_DAYS), '-config', configFile, '-extensions', 'ext', '-keyout', caKeyPath(certDir), '-out', caCertPath(certDir)];
}

/** A key and a signing request, then the CA's signature with the planned extensions. */
export function leafArgv(certDir: string, spec: CertSpec, configFile: string, csrFile: string, serialHex: string): [string[], string[]] {
  return [
    ['req', '-new', '-newkey', `rsa:${KEY_BITS}`, '-nodes', '-sha256', '-config', configFile, '-keyout', keyPath(certDir, spec.id), '-out', csrFile],
    ['x509', '-req', '-in', csrFile, '-CA', caCertPath(certDir), '-CAkey', caKeyPath(certDir), '-set_serial', `0x${serialHex}`, '-days', String(LEAF_DAYS), '-sha256', '-extfile', configFile, '-extensions', 'ext', '-out', certPath(certDir, spec.id)],
  ];
}

export function serviceAccountArgv(certDir: string): [string[], string[]] {
  return [
    ['genrsa', '-out', serviceAccountKeyPath(certDir), String(KEY_BITS)],
    ['rsa', '-in', serviceAccountKeyPath(certDir), '-pubout', '-out', serviceAccountPubPath(certDir)],
  ];
}

/** Distinguished-name parts from Node's X509Certificate.subject ("O=a\nCN=b"). */
function subjectParts(subject: string): { commonName: string; organizations: string[] } {
  const lines = subject.split('\n');
  return {
    commonName: lines.find((l) => l.startsWith('CN='))?.slice(3) ?? '',
    organizations: lines.filter((l) => l.startsWith('O=')).map((l) => l.slice(2)),
  };
}

/** "DNS:localhost, IP Address:127.0.0.1" → names and IPs. */
export function parseSubjectAltName(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ipAddresses.push(canonicalAddress(part.slice(11).toLowerCase()));
  }
  return { dnsNames, ipAddresses };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Why an existing certificate cannot be reused, or null when it can (pure: the PEM texts are passed in). */
export function certificateProblem(spec: CertSpec, pem: { cert: string; key: string }, ca: X509Certificate, now: Date): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem.cert);
  } catch (error) {
    return `cannot read the certificate (${(error as Error).message})`;
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not signed by ca.crt';
  const subject = subjectParts(cert.subject);
  if (subject.commonName !== spec.commonName || !sameSet(subject.organizations, spec.organizations)) {
    return `subject CN=${subject.commonName}${subject.organizations.map((o) => `, O=${o}`).join('')} differs from the planned CN=${spec.commonName}${spec.organizations.map((o) => `, O=${o}`).join('')}`;
  }
  const sans = parseSubjectAltName(cert.subjectAltName);
  if (!sameSet(sans.dnsNames, spec.dnsNames) || !sameSet(sans.ipAddresses, spec.ipAddresses.map(canonicalAddress))) {
    return `subject alternative names [${[...sans.dnsNames, ...sans.ipAddresses].join(', ')}] differ from the planned [${[...spec.dnsNames, ...spec.ipAddresses].join(', ')}]`;
  }
  const expiry = expiryProblem(cert, now);
  if (expiry !== null) return expiry;
  try {
    if (!cert.checkPrivateKey(createPrivateKey(pem.key))) return 'the key does not belong to the certificate';
  } catch (error) {
    return `cannot read the key (${(error as Error).message})`;
  }
  return null;
}

function expiryProblem(cert: X509Certificate, now: Date): string | null {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (notBefore.getTime() > now.getTime()) return `not valid before ${cert.validFrom}`;
  const remainingDays = (notAfter.getTime() - now.getTime()) / 86_400_000;
  if (remainingDays < REUSE_MIN_REMAINING_DAYS) return remainingDays <= 0 ? `expired on ${cert.validTo}` : `expires on ${cert.validTo}, in less than ${REUSE_MIN_REMAINING_DAYS} days`;
  return null;
}

/** Why the CA cannot be reused, or null. */
export function caProblem(caPem: string, caKeyPem: string, now: Date): string | null {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(caPem);
  } catch (error) {
    return `cannot read ca.crt (${(error as Error).message})`;
  }
  if (!ca.ca) return 'ca.crt is not a CA certificate';
  const expiry = expiryProblem(ca, now);
  if (expiry !== null) return `ca.crt ${expiry}`;
  try {
    if (!ca.checkPrivateKey(createPrivateKey(caKeyPem))) return 'ca.key does not belong to ca.crt';
  } catch (error) {
    return `cannot read ca.key (${(error as Error).message})`;
  }
  return null;
}

export interface PkiDeps {
  readonly runner: Runner;
  /** The openssl executable. */
  readonly openssl: string;
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
}

export interface PkiOutcome {
  /** Certificate ids (and "ca", "service-account") written this time. */
  readonly generated: readonly string[];
  readonly reused: readonly string[];
  /** Why something was regenerated although REUSE_CERTS was set. */
  readonly notes: readonly string[];
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function runOpenssl(deps: PkiDeps, args: readonly string[], what: string): Promise<void> {
  const result = await deps.runner.run(deps.openssl, args, { timeoutMs: OPENSSL_TIMEOUT_MS, ...(deps.signal === undefined ? {} : { signal: deps.signal }) });
  if (result.exitCode !== 0) {
    throw new LocalUpError(ExitCode.unavailable, `openssl could not make ${what}: ${describeFailure(result, OPENSSL_TIMEOUT_MS)}`, {
      details: tail(result.stderr || result.stdout, 10),
      hint: 'the command above is openssl\'s; check that CERT_DIR is writable and openssl works (openssl version)',
    });
  }
}

/** `openssl verify -CAfile ca.crt <cert>`: exit 0 and "<cert>: OK" means it chains to the CA. */
export async function verifyChain(deps: PkiDeps, certDir: string, cert: string): Promise<string | null> {
  const result = await deps.runner.run(deps.openssl, ['verify', '-CAfile', caCertPath(certDir), cert], { timeoutMs: OPENSSL_TIMEOUT_MS });
  return result.exitCode === 0 ? null : `openssl verify failed: ${tail(result.stderr || result.stdout, 3).replaceAll('\n', '; ')}`;
}

/**
 * Writes the PKI of the plan into CERT_DIR (0700; keys 0600). With `reuse`, keeps the CA when
 * valid and each certificate that still matches the plan; anything else is made anew (a new CA
 * makes every certificate new).
 */
export async function ensurePki(plan: PkiPlan, reuse: boolean, deps: PkiDeps): Promise<PkiOutcome> {
  const now = (deps.now ?? (() => new Date()))();
  const dir = plan.certDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const generated: string[] = [];
  const reused: string[] = [];
  const notes: string[] = [];

  let keepCa = false;
  if (reuse) {
    const [caPem, caKey] = await Promise.all([readText(caCertPath(dir)), readText(caKeyPath(dir))]);
    const problem = caPem === null || caKey === null ? 'ca.crt or ca.key is missing' : caProblem(caPem, caKey, now);
    keepCa = problem === null;
    if (!keepCa) notes.push(`REUSE_CERTS: a new CA is made because ${problem ?? 'it is unusable'}; every certificate is made anew`);
  }

  const work = await mkdtemp(join(dir, '.work-'));
  try {
    if (keepCa) {
      reused.push('ca');
    } else {
      const config = join(work, 'ca.cnf');
      await writeFile(config, renderOpensslConfig({ commonName: plan.caCommonName, organizations: [] }, 'ca'));
      await runOpenssl(deps, caArgv(dir, config), 'the CA');
      generated.push('ca');
    }
    const ca = new X509Certificate(await readFile(caCertPath(dir), 'utf8'));
    for (const spec of plan.certs) {
      if (keepCa) {
        const [cert, key] = await Promise.all([readText(certPath(dir, spec.id)), readText(keyPath(dir, spec.id))]);
        const problem = cert === null || key === null ? 'missing' : (certificateProblem(spec, { cert, key }, ca, now) ?? (await verifyChain(deps, dir, certPath(dir, spec.id))));
        if (problem === null) {
          reused.push(spec.id);
          continue;
        }
        notes.push(`REUSE_CERTS: ${spec.id} is made anew: ${problem}`);
      }
      const config = join(work, `${spec.id}.cnf`);
      const csr = join(work, `${spec.id}.csr`);
      await writeFile(config, renderOpensslConfig(spec, spec));
      // A random 127-bit serial: the top bit cleared keeps it positive, as RFC 5280 requires.
      const serial = randomBytes(16);
      serial[0] = (serial[0] ?? 0) & 0x7f;
      const [request, sign] = leafArgv(dir, spec, config, csr, serial.toString('hex'));
      await runOpenssl(deps, request, `the key of ${spec.id}`);
      await runOpenssl(deps, sign, `the certificate ${spec.id}`);
      generated.push(spec.id);
    }
    const saKey = keepCa ? await readText(serviceAccountKeyPath(dir)) : null;
    const saPub = keepCa ? await readText(serviceAccountPubPath(dir)) : null;
    if (saKey !== null && saPub !== null && serviceAccountPairMatches(saKey, saPub)) {
      reused.push('service-account');
    } else {
      if (keepCa) notes.push('REUSE_CERTS: the service-account key pair is made anew: missing or not a pair');
      const [key, pub] = serviceAccountArgv(dir);
      await runOpenssl(deps, key, 'the service-account key');
      await runOpenssl(deps, pub, 'the service-account public key');
      generated.push('service-account');
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  for (const path of [caKeyPath(dir), serviceAccountKeyPath(dir), ...plan.certs.map((c) => keyPath(dir, c.id))]) await chmod(path, 0o600);
  return { generated, reused, notes };
}

function serviceAccountPairMatches(keyPem: string, pubPem: string): boolean {
  try {
    const derived = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'pem' }).toString();
    return derived.trim() === createPublicKey(pubPem).export({ type: 'spki', format: 'pem' }).toString().trim();
  } catch {
    return false;
  }
}
