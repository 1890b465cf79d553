// Preflight for the local provider: everything local-up-cluster.sh assumes or
// half-checks, checked before anything starts. Gathering (sockets, ports,
// files, commands) is separate from judging (evaluateLocalPreflight, pure).
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import type { Settings } from '../../config/settings.js';
import type { Check } from '../../doctor/check.js';
import { check } from '../../doctor/check.js';
import type { Privileges } from '../../doctor/evaluate.js';
import { readPrivileges } from '../../doctor/gather.js';
import type { ToolFact } from '../../doctor/tools.js';
import { probeTool } from '../../doctor/tools.js';
import { isLocalUpError } from '../../errors.js';
import type { Runner } from '../../exec/runner.js';
import { PROC_IP_VS } from '../../ipvs/live.js';
import { virtualServerKey } from '../../ipvs/model.js';
import { readProcIpvs } from '../../ipvs/read-proc.js';
import { cidrContains, toCidr } from '../../kube/ip.js';
import { findKubectl } from '../../kube/kubectl.js';
import type { FoundBinary, VersionVerdict } from './binaries.js';
import type { ComponentPlan } from './plan.js';

/** The plugins the bridge conflist (and most containerd set-ups) use. */
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;
const SOCKET_TIMEOUT_MS = 3_000;

export interface PortFact {
  readonly setting: string;
  readonly host: string;
  readonly port: number;
  readonly component: string;
  /** null: free (we could bind it); else why not. */
  readonly problem: string | null;
}

export interface LocalPreflightFacts {
  readonly binaries: { readonly found: readonly FoundBinary[]; readonly verdict: VersionVerdict } | { readonly error: string; readonly details: string };
  readonly openssl: ToolFact;
  readonly kubectl: { readonly path: string | null; readonly foundVia: string | null };
  readonly runtime: { readonly endpoint: string; readonly result: 'ok' | { readonly code: string; readonly message: string } };
  readonly cniBinDir: { readonly dir: string; readonly missing: readonly string[] };
  readonly cniConfigDir: { readonly dir: string; readonly files: readonly string[] | null; readonly subnets: readonly string[] };
  readonly ports: readonly PortFact[];
  readonly privileges: Privileges;
  readonly etcdDir: { readonly path: string; readonly entries: number | null };
  /** Virtual servers already in this kernel's IPVS table (ipvs mode only); null when not read. */
  readonly existingVirtualServers: readonly string[] | null;
}

/** Tries to connect to a unix socket: "ok", or the error code and message. */
export function probeUnixSocket(path: string, timeoutMs = SOCKET_TIMEOUT_MS): Promise<'ok' | { code: string; message: string }> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (result: 'ok' | { code: string; message: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ code: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done('ok'));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ code: error.code ?? 'ERROR', message: error.message }));
  });
}

/** Binds host:port and releases it at once: null when free, else the reason. */
export function probePortFree(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' ? `${host}:${port} is already in use` : `cannot bind ${host}:${port}: ${error.code ?? error.message}`));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** The subnets of host-local IPAM ranges in CNI config files (for the CLUSTER_CIDR comparison). */
export function cniSubnets(texts: readonly string[]): string[] {
  const subnets: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'subnet' && typeof inner === 'string') subnets.push(inner);
        else visit(inner);
      }
    }
  };
  for (const text of texts) {
    try {
      visit(JSON.parse(text));
    } catch {
      // Not JSON: containerd would reject it too; the file name is still listed.
    }
  }
  return subnets;
}

export const socketPath = (endpoint: string): string => endpoint.replace(/^unix:\/\//, '');

export interface GatherDeps {
  readonly runner: Runner;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly uid: number;
  /** The binaries, or why they could not be found (gathered by the caller, once). */
  readonly binaries: LocalPreflightFacts['binaries'];
  readonly components: readonly ComponentPlan[];
}

export async function gatherLocalPreflight(settings: Settings, deps: GatherDeps): Promise<LocalPreflightFacts> {
  const listDir = (dir: string): string[] | null => {
    try {
      return readdirSync(dir);
    } catch {
      return null;
    }
  };
  const cniBin = listDir(settings.cniBinDir) ?? [];
  const configFiles = listDir(settings.cniConfigDir)?.filter((f) => /\.(conf|conflist|json)$/.test(f)).sort() ?? null;
  const configTexts = (configFiles ?? []).map((f) => {
    try {
      return readFileSync(join(settings.cniConfigDir, f), 'utf8');
    } catch {
      return '';
    }
  });
  const ports: PortFact[] = [];
  for (const component of deps.components) {
    for (const p of component.ports) ports.push({ setting: p.setting, host: p.host, port: p.port, component: component.name, problem: await probePortFree(p.host, p.port) });
  }
  let existingVirtualServers: string[] | null = null;
  if (settings.proxyMode === 'ipvs') {
    try {
      const text = readFileSync(PROC_IP_VS, 'utf8');
      existingVirtualServers = readProcIpvs(text).services.map((vs) => virtualServerKey(vs));
    } catch (error) {
      existingVirtualServers = isLocalUpError(error) ? null : [];
    }
  }
  const [openssl, privileges, runtime] = await Promise.all([
    probeTool('openssl', deps.runner, deps.env, { versionArgs: ['version'] }),
    readPrivileges(deps.runner, deps.env, deps.uid),
    probeUnixSocket(socketPath(settings.containerRuntimeEndpoint)),
  ]);
  return {
    binaries: deps.binaries,
    openssl,
    kubectl: findKubectl(deps.env),
    runtime: { endpoint: settings.containerRuntimeEndpoint, result: runtime },
    cniBinDir: { dir: settings.cniBinDir, missing: CNI_PLUGINS.filter((p) => !cniBin.includes(p)) },
    cniConfigDir: { dir: settings.cniConfigDir, files: configFiles, subnets: cniSubnets(configTexts) },
    ports,
    privileges,
    etcdDir: { path: settings.etcdDir, entries: listDir(settings.etcdDir)?.length ?? null },
    existingVirtualServers,
  };
}

const id = (name: string) => `provider.local.${name}`;

/** The checks, in the order a user would fix them. */
export function evaluateLocalPreflight(settings: Settings, facts: LocalPreflightFacts): Check[] {
  const checks: Check[] = [];
  const b = facts.binaries;
  if ('error' in b) {
    checks.push(check(id('binaries'), 'Kubernetes and etcd binaries', 'fail', `${b.error}\n${b.details}`, 'get real binaries with `local-up tools install kubernetes` (add --from-source to build them with Go) and `local-up tools install etcd`; or set KUBE_ROOT to a Kubernetes checkout you built, or KUBE_BIN_DIR to a folder of binaries'));
  } else {
    const list = b.found.map((f) => `${f.name} ${f.versionText.replace(/^Kubernetes |^etcd Version: /, '')} (${f.path}, via ${f.via})`).join('; ');
    if (b.verdict.errors.length > 0) checks.push(check(id('binaries'), 'Kubernetes and etcd binaries', 'fail', b.verdict.errors.join('; '), 'the message names the setting or binary to change'));
    else if (b.verdict.warnings.length > 0) checks.push(check(id('binaries'), 'Kubernetes and etcd binaries', 'warn', `${b.verdict.warnings.join('; ')}; found ${list}`, null));
    else checks.push(check(id('binaries'), 'Kubernetes and etcd binaries', 'pass', `${[...b.verdict.notes, `found ${list}`].join('; ')}`));
  }

  checks.push(facts.openssl.path === null
    ? check(id('openssl'), 'openssl (makes the cluster PKI)', 'fail', 'openssl not found on PATH', 'install it: apt-get install openssl')
    : facts.openssl.failure !== null
      ? check(id('openssl'), 'openssl (makes the cluster PKI)', 'fail', facts.openssl.failure, 'repair or reinstall openssl')
      : check(id('openssl'), 'openssl (makes the cluster PKI)', 'pass', `${facts.openssl.path}: ${facts.openssl.versionText ?? ''}`));

  checks.push(facts.kubectl.path === null
    ? check(id('kubectl'), 'kubectl', 'fail', 'kubectl not found (KUBECTL, or PATH); it applies CoreDNS and checks the node', 'build it with the rest (make WHAT=cmd/kubectl) and put it on PATH, or set KUBECTL')
    : check(id('kubectl'), 'kubectl', 'pass', `${facts.kubectl.path} (via ${facts.kubectl.foundVia ?? 'PATH'})`));

  const runtime = facts.runtime;
  const sock = socketPath(runtime.endpoint);
  if (runtime.result === 'ok') {
    checks.push(check(id('runtime'), 'Container runtime (CONTAINER_RUNTIME_ENDPOINT)', 'pass', `${sock} accepts connections`));
  } else if (runtime.result.code === 'EACCES') {
    checks.push(check(id('runtime'), 'Container runtime (CONTAINER_RUNTIME_ENDPOINT)', facts.privileges.uid === 0 ? 'fail' : 'warn', `${sock} exists but this user may not connect (${runtime.result.message}); the kubelet runs as root and can`, null));
  } else {
    const missing = runtime.result.code === 'ENOENT';
    checks.push(check(id('runtime'), 'Container runtime (CONTAINER_RUNTIME_ENDPOINT)', 'fail', `cannot connect to ${sock}: ${runtime.result.message}`, missing ? 'start containerd (sudo systemctl start containerd), or set CONTAINER_RUNTIME_ENDPOINT to your runtime\'s socket' : 'is containerd healthy? (sudo systemctl status containerd)'));
  }

  const cni = facts.cniBinDir;
  checks.push(cni.missing.length === 0
    ? check(id('cni-plugins'), `CNI plugins in ${cni.dir}`, 'pass', `${CNI_PLUGINS.join(', ')} present`)
    : check(id('cni-plugins'), `CNI plugins in ${cni.dir}`, 'fail', `missing: ${cni.missing.join(', ')}`, `install the CNI plugins (https://github.com/containernetworking/plugins/releases) into ${cni.dir}; Debian's containernetworking-plugins puts them in /usr/lib/cni: then set CNI_BIN_DIR=/usr/lib/cni and containerd's bin_dir to match`));

  const configs = facts.cniConfigDir;
  if (configs.files === null || configs.files.length === 0) {
    checks.push(check(id('cni-config'), `CNI network config in ${configs.dir}`, 'pass', `none yet: up writes 10-kube-local-up.conflist (bridge cni0, host-local ${settings.clusterCidr}), as local-up-cluster.sh writes one`));
  } else {
    const cluster = toCidr(settings.clusterCidr);
    const outside = configs.subnets.filter((s) => {
      try {
        return toCidr(s).family === 4 && !cidrContains(cluster, s.split('/')[0] ?? '');
      } catch {
        return false;
      }
    });
    checks.push(outside.length === 0
      ? check(id('cni-config'), `CNI network config in ${configs.dir}`, 'pass', `${configs.files.join(', ')}${configs.subnets.length > 0 ? ` (pod subnets ${configs.subnets.join(', ')})` : ''}`)
      : check(id('cni-config'), `CNI network config in ${configs.dir}`, 'warn', `${configs.files.join(', ')} give pods addresses in ${outside.join(', ')}, outside CLUSTER_CIDR=${settings.clusterCidr}: kube-proxy (clusterCIDR) will treat pod traffic as coming from outside the cluster and masquerade it`, `set CLUSTER_CIDR to the pod subnet (${outside[0] ?? ''}), or move the CNI config away so up writes one over CLUSTER_CIDR`));
  }

  const taken = facts.ports.filter((p) => p.problem !== null);
  checks.push(taken.length === 0
    ? check(id('ports'), 'Ports the components listen on', 'pass', facts.ports.map((p) => `${p.setting}=${p.port}`).join(', '))
    : check(id('ports'), 'Ports the components listen on', 'fail', taken.map((p) => `${p.setting}=${p.port} (${p.component}): ${p.problem ?? ''}`).join('; '), 'stop what holds the port (is another cluster running? `local-up status`), or choose another port with the setting named'));

  const priv = facts.privileges;
  checks.push(priv.uid === 0
    ? check(id('privileges'), 'Root for the kubelet and kube-proxy', 'pass', 'running as root')
    : priv.sudo === 'passwordless'
      ? check(id('privileges'), 'Root for the kubelet and kube-proxy', 'pass', `uid ${priv.uid}; they run through sudo -n (passwordless sudo works)`)
      : check(id('privileges'), 'Root for the kubelet and kube-proxy', 'fail', `uid ${priv.uid}; ${priv.sudo === 'needs-password' ? 'sudo asks for a password' : 'no sudo'}, and the kubelet and kube-proxy must run as root`, priv.sudo === 'needs-password' ? 'run `sudo -v` first (up then uses sudo -n), or run up as root' : 'run up as root'));

  const etcd = facts.etcdDir;
  if (etcd.entries !== null && etcd.entries > 0 && !settings.preserveEtcd) {
    checks.push(check(id('etcd-dir'), 'etcd data folder (ETCD_DIR)', 'fail', `${etcd.path} already holds data, and PRESERVE_ETCD=false would start from nothing`, `set PRESERVE_ETCD=true to keep using it (with REUSE_CERTS=true), or remove it: rm -rf ${etcd.path} (or \`local-up down\` if a cluster still runs)`));
  } else {
    checks.push(check(id('etcd-dir'), 'etcd data folder (ETCD_DIR)', 'pass', etcd.entries === null || etcd.entries === 0 ? `${etcd.path} (new)` : `${etcd.path} (kept: PRESERVE_ETCD=true)`));
  }

  if (facts.existingVirtualServers !== null && facts.existingVirtualServers.length > 0) {
    const shown = facts.existingVirtualServers.slice(0, 5).join(', ');
    checks.push(check(id('ipvs-table'), 'IPVS table before start', 'warn', `${facts.existingVirtualServers.length} virtual server(s) already exist (${shown}${facts.existingVirtualServers.length > 5 ? ', ...' : ''}); \`kube-proxy --cleanup\` at down flushes the WHOLE IPVS table, these included`, 'save them first (ipvsadm -Sn > ipvs.save; ipvsadm -R < ipvs.save to restore after down)'));
  }
  return checks;
}

/** The bridge conflist local-up-cluster.sh writes when there is none, over CLUSTER_CIDR instead of 10.88.0.0/16. */
export function renderBridgeConflist(clusterCidr: string): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'kube-local-up',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          promiscMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: clusterCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export const BRIDGE_CONFLIST = '10-kube-local-up.conflist';
