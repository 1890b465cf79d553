// What compare-modes adds to the smoke suite: probes sent from each node itself, the
// places where leaving IPVS is known to change what answers (src/migrate/rules.ts):
// the smoke NodePort on every node address and on loopback, and the smoke ClusterIP
// to ping and to a port only the node itself listens on (kube-proxy's healthz port).
// Sent through the node's Host (curl, ping); judged by pure functions below.
import { tail } from '../exec/runner.js';
import type { RunResult } from '../exec/runner.js';
import { readNodeAddresses } from '../ipvs/live.js';
import { hostPort } from '../ipvs/model.js';
import { ipFamilyOf, isIpv6LinkLocal, isLoopback } from '../kube/ip.js';
import { SMOKE_SERVICES } from '../smoke/manifests.js';
import type { SmokeWorkloads } from '../smoke/suite.js';

export type ProbeKind = 'nodeport-address' | 'nodeport-localhost' | 'ping-cluster-ip' | 'cluster-ip-host-port';

export interface NodeProbe {
  readonly node: string;
  readonly kind: ProbeKind;
  /** The address probed: a node address, loopback, or the smoke ClusterIP. */
  readonly address: string;
  /** "HTTP 10.244.0.1:31234", "ping 10.0.0.17". */
  readonly target: string;
  readonly answered: boolean;
  /** The answer or the error, one line. */
  readonly detail: string;
}

/** curl's and ping's own wait for one try. */
const PROBE_SECONDS = 5;
const PROBE_TIMEOUT_MS = 20_000;

const failure = (result: RunResult): string =>
  result.notFound ? `${result.command.split(' ')[0] ?? 'the command'} is not installed on the node` : `${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal ?? '?'}`}${tail(result.stderr, 1).trim() === '' ? '' : `: ${tail(result.stderr, 1).trim()}`}`;

/** A NodePort probe answered when a smoke backend (by its pod name) answered /hostname. */
export function judgeBackendAnswer(result: RunResult, backends: readonly string[]): { answered: boolean; detail: string } {
  const body = result.stdout.trim();
  if (result.exitCode !== 0) return { answered: false, detail: failure(result) };
  return backends.includes(body) ? { answered: true, detail: `answered by ${body}` } : { answered: false, detail: `answered "${body.slice(0, 60)}", not a smoke backend` };
}

/** A host-port probe answered when anything answered HTTP (curl printed a status code). */
export function judgeHttpAnswer(result: RunResult): { answered: boolean; detail: string } {
  if (result.exitCode !== 0) return { answered: false, detail: failure(result) };
  return { answered: true, detail: `HTTP ${result.stdout.trim() || '?'}` };
}

export function judgePing(result: RunResult): { answered: boolean; detail: string } {
  return result.exitCode === 0 ? { answered: true, detail: 'echo reply' } : { answered: false, detail: failure(result) };
}

/** Node addresses a NodePort may be served on: the ClusterIP's family, not loopback, not IPv6 link-local. */
export function nodePortCandidates(addresses: readonly string[], family: 4 | 6): string[] {
  return [...new Set(addresses.filter((a) => ipFamilyOf(a) === family && !isLoopback(a) && !isIpv6LinkLocal(a)))];
}

/** Every probe from every node, while the smoke workloads run. */
export async function probeFromNodes(workloads: SmokeWorkloads, hostListenerPort: number): Promise<NodeProbe[]> {
  const clusterIP = workloads.services.get(SMOKE_SERVICES.clusterIP)?.clusterIP ?? '';
  const nodePort = workloads.services.get(SMOKE_SERVICES.nodePort)?.ports[0]?.nodePort ?? 0;
  const family = ipFamilyOf(clusterIP) ?? 4;
  const loopback = family === 6 ? '::1' : '127.0.0.1';
  const probes: NodeProbe[] = [];
  for (const node of workloads.nodes) {
    const curl = (url: string, extra: readonly string[] = []) => node.host.run('curl', ['-sS', '--max-time', String(PROBE_SECONDS), ...extra, url], { timeoutMs: PROBE_TIMEOUT_MS });
    const add = (kind: ProbeKind, address: string, target: string, verdict: { answered: boolean; detail: string }) => probes.push({ node: node.name, kind, address, target, ...verdict });
    if (nodePort > 0) {
      const addresses = nodePortCandidates((await readNodeAddresses(node.host)).node, family);
      for (const address of addresses) {
        const url = `http://${hostPort(address, nodePort)}/hostname`;
        add('nodeport-address', address, `HTTP ${hostPort(address, nodePort)}`, judgeBackendAnswer(await curl(url), workloads.backends));
      }
      add('nodeport-localhost', loopback, `HTTP ${hostPort(loopback, nodePort)}`, judgeBackendAnswer(await curl(`http://${hostPort(loopback, nodePort)}/hostname`), workloads.backends));
    }
    if (ipFamilyOf(clusterIP) !== null) {
      const ping = await node.host.run('ping', ['-c', '1', '-W', String(PROBE_SECONDS), clusterIP], { timeoutMs: PROBE_TIMEOUT_MS });
      add('ping-cluster-ip', clusterIP, `ping ${clusterIP}`, judgePing(ping));
      const target = hostPort(clusterIP, hostListenerPort);
      add('cluster-ip-host-port', clusterIP, `HTTP ${target} (kube-proxy's healthz port, a listener of the node only)`, judgeHttpAnswer(await curl(`http://${target}/healthz`, ['-o', '/dev/null', '-w', '%{http_code}'])));
    }
  }
  return probes;
}
