// Pieces `up`, `status`, `logs` and `assert` share, for every provider: the
// provider context, kube-proxy's mode as each node reports it, and the IPVS
// assertions on every node.
import { release } from 'node:os';
import { formatKubeVersion } from '../config/kube-version.js';
import type { ResolvedSettings } from '../config/resolve.js';
import type { Settings } from '../config/settings.js';
import type { Io } from '../io/io.js';
import type { Host } from '../exec/host.js';
import { tail } from '../exec/runner.js';
import type { IpFamily } from '../kube/ip.js';
import { Kubectl, findKubectl, kubectlMissing } from '../kube/kubectl.js';
import { readClusterJson } from '../kube/read.js';
import type { NodeCheck } from '../ipvs/diff.js';
import { assertLiveNode } from '../ipvs/live.js';
import type { LiveNodeCheck } from '../ipvs/live.js';
import type { RunLog } from '../log/run-log.js';
import type { ClusterNode, Provider, ProviderContext } from '../providers/provider.js';
import type { ClusterState } from '../state/state-file.js';
import { STATE_FILE_VERSION, clusterStateDir } from '../state/state-file.js';

/** kube-proxy's metrics/status port; /proxyMode answers the mode it runs in. */
export const PROXY_MODE_PORT = 10249;
const PROXY_MODE_TIMEOUT_MS = 15_000;
const PROXY_MODE_FETCH_SECONDS = '5';

export interface ContextInput {
  readonly io: Io;
  readonly resolved: ResolvedSettings;
  readonly log: RunLog;
  readonly retain?: boolean;
  /** Defaults to the Io's signal (Ctrl-C). Cleanup passes a fresh one. */
  readonly signal?: AbortSignal;
  readonly progress?: (line: string) => void;
}

export function providerContext(input: ContextInput): ProviderContext {
  const s = input.resolved.values;
  return {
    settings: s,
    resolved: input.resolved,
    runner: input.io.runner,
    env: input.io.env,
    signal: input.signal ?? input.io.signal,
    log: input.log,
    progress: input.progress ?? ((line) => input.log.write(line)),
    clusterDir: clusterStateDir(s.stateDir, s.clusterName),
    uid: process.getuid?.() ?? -1,
    interactive: input.io.stdinIsTTY,
    retain: input.retain ?? false,
    platform: input.io.platform ?? { os: process.platform, release: release() },
  };
}

/** The state file `up` writes before it creates anything (details filled in as they appear). */
export function initialState(settings: Settings, details: Readonly<Record<string, unknown>>, now: Date = new Date()): ClusterState {
  return {
    version: STATE_FILE_VERSION,
    provider: settings.provider,
    clusterName: settings.clusterName,
    createdAt: now.toISOString(),
    kubeconfig: settings.kubeconfigOut,
    proxyMode: settings.proxyMode,
    kubeVersion: formatKubeVersion(settings.kubeVersion),
    logDir: settings.logDir,
    details,
  };
}

/** kubectl for a cluster's kubeconfig, each call bounded by KUBECTL_TIMEOUT. */
export function kubectlForState(io: Io, settings: Pick<Settings, 'kubectlTimeout'>, kubeconfig: string, log?: RunLog, signal?: AbortSignal): Kubectl {
  const found = findKubectl(io.env);
  if (found.path === null) throw kubectlMissing();
  return new Kubectl({
    runner: io.runner,
    path: found.path,
    kubeconfig,
    timeoutMs: settings.kubectlTimeout * 1000,
    signal: signal ?? io.signal,
    ...(log === undefined ? {} : { log: (line: string) => log.write(`kubectl: ${line}`) }),
  });
}

export interface EndpointMode {
  /** What /proxyMode answered, or null. */
  readonly mode: string | null;
  readonly error: string | null;
}

/** kube-proxy's default metrics address on an IPv4 node. */
export const PROXY_MODE_ADDRESS = '127.0.0.1';

/** Where a node's /proxyMode answers, for messages: "127.0.0.1:10249", "[::1]:10249". */
export const proxyModeEndpointOf = (node: Pick<ClusterNode, 'proxyModePort' | 'proxyModeAddress'>): string => `${node.proxyModeAddress ?? PROXY_MODE_ADDRESS}:${node.proxyModePort ?? PROXY_MODE_PORT}`;

/**
 * Asks kube-proxy on a node which mode it runs in: GET http://ADDRESS:PORT/proxyMode from inside the
 * node's network namespace (curl, else wget: kind's node image has curl, busybox wget). ADDRESS is
 * 127.0.0.1, or [::1] on a node whose kube-proxy binds to "::" (the provider says: ClusterNode).
 */
export async function readProxyModeEndpoint(host: Host, port: number = PROXY_MODE_PORT, address: string = PROXY_MODE_ADDRESS): Promise<EndpointMode> {
  const url = `http://${address}:${port}/proxyMode`;
  const attempts: [string, string[]][] = [
    ['curl', ['-fsS', '--max-time', PROXY_MODE_FETCH_SECONDS, url]],
    ['wget', ['-q', '-T', PROXY_MODE_FETCH_SECONDS, '-O', '-', url]],
  ];
  const errors: string[] = [];
  for (const [file, args] of attempts) {
    const result = await host.run(file, args, { timeoutMs: PROXY_MODE_TIMEOUT_MS });
    if (result.exitCode === 0) return { mode: result.stdout.trim(), error: null };
    // Only a missing tool moves on to the next one; a refused connection is the answer.
    const missing = result.notFound || result.exitCode === 126 || result.exitCode === 127 || /executable file not found/i.test(result.stderr);
    errors.push(`${result.command}: ${tail(result.stderr || result.stdout || `exit ${result.exitCode ?? result.signal}`, 2).trim()}`);
    if (!missing) break;
  }
  return { mode: null, error: errors.join('; ') };
}

export interface NodeMode {
  readonly node: string;
  /** The port /proxyMode was asked on (10249 unless the provider says otherwise). */
  readonly port?: number;
  /** The address it was asked on (127.0.0.1 unless the provider says otherwise). */
  readonly address?: string;
  readonly endpoint: EndpointMode;
}

export interface ModeProof {
  readonly requested: string;
  readonly configured: { readonly mode: string; readonly source: string };
  readonly nodes: readonly NodeMode[];
  readonly ok: boolean;
  /** One line per problem. */
  readonly problems: readonly string[];
}

/** The configured mode and every node's /proxyMode must equal the requested mode. */
export async function proveProxyMode(provider: Provider, ctx: ProviderContext, state: ClusterState, nodes: readonly ClusterNode[], requested: string): Promise<ModeProof> {
  const configured = await provider.configuredMode(ctx, state);
  const modes = await Promise.all(
    nodes.map(async (node) => ({ node: node.name, port: node.proxyModePort ?? PROXY_MODE_PORT, address: node.proxyModeAddress ?? PROXY_MODE_ADDRESS, endpoint: await readProxyModeEndpoint(node.host, node.proxyModePort, node.proxyModeAddress) })),
  );
  return judgeModes(requested, configured, modes);
}

/** Pure: the verdict on what was read. An empty configured mode is kube-proxy's default (iptables on Linux). */
export function judgeModes(requested: string, configured: ModeProof['configured'], nodes: readonly NodeMode[]): ModeProof {
  const problems: string[] = [];
  const effective = configured.mode === '' ? 'iptables' : configured.mode;
  if (effective !== requested) problems.push(`${configured.source} says mode "${configured.mode}"${configured.mode === '' ? ' (kube-proxy\'s default, iptables)' : ''}, not "${requested}"`);
  if (nodes.length === 0) problems.push('the cluster has no nodes');
  for (const { node, endpoint, port, address } of nodes) {
    if (endpoint.mode === null) problems.push(`node ${node}: /proxyMode on ${address ?? PROXY_MODE_ADDRESS} port ${port ?? PROXY_MODE_PORT} did not answer (${endpoint.error ?? 'no answer'})`);
    else if (endpoint.mode !== requested) problems.push(`node ${node}: kube-proxy runs in "${endpoint.mode}" mode, not "${requested}" (/proxyMode)`);
  }
  return { requested, configured, nodes, ok: problems.length === 0, problems };
}

export interface AssertOptions {
  readonly families: readonly IpFamily[];
  readonly scheduler: string;
  readonly nodePortAddresses: readonly string[];
  readonly excludeCidrs: readonly string[];
}

export const assertOptionsOf = (s: Settings): AssertOptions => ({
  families: s.ipFamily === 'dual' ? [4, 6] : s.ipFamily === 'ipv6' ? [6] : [4],
  scheduler: s.scheduler,
  nodePortAddresses: s.nodePortAddresses,
  excludeCidrs: s.excludeCidrs,
});

/** Reads the cluster once, then every node's table and addresses, and checks each. */
export async function assertNodes(kubectl: Kubectl, nodes: readonly ClusterNode[], options: AssertOptions, onNode?: (node: string) => void): Promise<LiveNodeCheck[]> {
  const cluster = readClusterJson(await kubectl.clusterJson(), 'kubectl get services,endpointslices -A -o json');
  const checks: LiveNodeCheck[] = [];
  for (const node of nodes) {
    onNode?.(node.name);
    checks.push(await assertLiveNode(node.host, node.name, cluster, options, node.hzFallback ?? null));
  }
  return checks;
}

/**
 * Summary lines on where each node's HZ came from, grouped; nodes without one say loudly that their
 * persistence timeouts (session affinity) were not compared.
 */
export function hzLines(checks: readonly LiveNodeCheck[]): { readonly known: string[]; readonly unknown: string | null } {
  const bySource = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const c of checks) {
    if (c.hz === null) unknown.push(c.node);
    else bySource.set(`HZ ${c.hz.hz} from ${c.hz.source}`, [...(bySource.get(`HZ ${c.hz.hz} from ${c.hz.source}`) ?? []), c.node]);
  }
  return {
    known: [...bySource].map(([what, nodes]) => `${nodes.join(', ')}: ${what}`),
    unknown: unknown.length === 0 ? null : `HZ unknown on ${unknown.join(', ')}: persistence timeouts (session affinity) were NOT compared (no kernel config readable in the nodes or where they run: /proc/config.gz, /boot/config-<release>)`,
  };
}

/** "OK: 12 virtual servers match" / "FAIL: 2 failures" for one node, one line. */
export function assertionLine(check: NodeCheck): string {
  const d = check.diff;
  return d.ok
    ? `OK (${d.counts.matchedVirtualServers} virtual servers match${d.warnings > 0 ? `, ${d.warnings} warnings` : ''})`
    : `FAIL (${d.failures} failure${d.failures === 1 ? '' : 's'}${d.warnings > 0 ? `, ${d.warnings} warnings` : ''})`;
}
