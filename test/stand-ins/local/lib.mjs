// Shared by the local provider's stand-ins (test doubles for kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl that
// follow the real binaries' documented flags, --version output, health endpoints
// and exit codes). They record what happens to $LOCAL_STANDIN_DIR/events.jsonl so
// tests can check start order, stop order and cleanup.
//
// Knobs (environment):
//   LOCAL_STANDIN_DIR            where events.jsonl goes (required)
//   LOCAL_STANDIN_VERSION        what --version prints after "Kubernetes " (default v1.34.11)
//   LOCAL_STANDIN_CRASH          "<name>:<ms>": that component exits 1 after <ms> ms, with a log line
//   LOCAL_STANDIN_NOT_READY      "<name>": that component never answers its health endpoint with ok
//   LOCAL_STANDIN_DNS_NEVER_READY=1: the apiserver never reports the CoreDNS Deployment Available
//   LOCAL_STANDIN_IGNORE_TERM    "<name>": that component ignores SIGTERM (needs SIGKILL)
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const DIR = process.env.LOCAL_STANDIN_DIR ?? '';

export function record(event, name, extra = {}) {
  if (DIR === '') return;
  appendFileSync(join(DIR, 'events.jsonl'), `${JSON.stringify({ event, name, pid: process.pid, pgid: process.pid, time: Date.now(), ...extra })}\n`);
}

/** --flag=value and --flag value forms, like pflag; bare --flag is "true". */
export function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--')) continue;
    const eq = word.indexOf('=');
    if (eq > 0) flags[word.slice(2, eq)] = word.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[word.slice(2)] = argv[++i];
    else flags[word.slice(2)] = 'true';
  }
  return flags;
}

/** Common start-up: --version, the crash and SIGTERM knobs. Returns the flags. */
export function startComponent(name, argv = process.argv.slice(2)) {
  const flags = parseFlags(argv);
  if (flags.version !== undefined) {
    // The real binaries print "Kubernetes v1.34.11" (component-base/version) and exit 0.
    process.stdout.write(`Kubernetes ${process.env.LOCAL_STANDIN_VERSION ?? 'v1.34.11'}\n`);
    process.exit(0);
  }
  log(`I ${name} stand-in starting with ${argv.join(' ')}`);
  record('start', name, { argv });
  const ignoreTerm = process.env.LOCAL_STANDIN_IGNORE_TERM === name;
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      record(ignoreTerm && signal === 'SIGTERM' ? 'ignored-term' : 'stop', name, { signal });
      if (ignoreTerm && signal === 'SIGTERM') return;
      log(`I ${name} received ${signal}, shutting down`);
      process.exit(0);
    });
  }
  const crash = (process.env.LOCAL_STANDIN_CRASH ?? '').split(':');
  if (crash[0] === name) {
    setTimeout(() => {
      log(`E ${name} stand-in: fatal error injected by LOCAL_STANDIN_CRASH`);
      record('crash', name);
      process.exit(1);
    }, Number(crash[1] ?? 0));
  }
  return flags;
}

export const notReady = (name) => process.env.LOCAL_STANDIN_NOT_READY === name;

export function log(line) {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

export function fail(line, code = 1) {
  log(`E ${line}`);
  process.exit(code);
}

/** A kubeconfig's server URL and TLS material (paths or embedded data). */
export function readKubeconfig(path) {
  const doc = YAML.parse(readFileSync(path, 'utf8'));
  const context = doc.contexts.find((c) => c.name === doc['current-context'])?.context ?? doc.contexts[0].context;
  const cluster = doc.clusters.find((c) => c.name === context.cluster).cluster;
  const user = doc.users.find((u) => u.name === context.user).user;
  const pem = (pathKey, dataKey, from) => (from[dataKey] !== undefined ? Buffer.from(from[dataKey], 'base64').toString('utf8') : readFileSync(from[pathKey], 'utf8'));
  return {
    server: cluster.server,
    ca: pem('certificate-authority', 'certificate-authority-data', cluster),
    cert: pem('client-certificate', 'client-certificate-data', user),
    key: pem('client-key', 'client-key-data', user),
  };
}

/** A JSON request to the stand-in apiserver with a kubeconfig's client certificate. */
export async function apiRequest(kubeconfig, method, path, body) {
  const { request } = await import('node:https');
  const url = new URL(path, kubeconfig.server);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: kubeconfig.ca, cert: kubeconfig.cert, key: kubeconfig.key, headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** "127.0.0.1:10249" / "0.0.0.0:10256" / "[::1]:10249" → host and port. */
export function splitAddress(address) {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}
