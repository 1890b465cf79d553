// Pure readers of what kubectl prints about smoke's own objects: pods (name,
// IP, node, ready, terminating) and Services (ClusterIP, ports, NodePort), plus
// the client pod's resolv.conf and dig output for the DNS check.
import { canonicalAddress, ipFamilyOf } from '../kube/ip.js';

type JsonObject = Record<string, unknown>;
const asObject = (value: unknown): JsonObject => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asString = (value: unknown): string => (typeof value === 'string' ? value : '');
const asNumber = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export interface SmokePod {
  readonly name: string;
  readonly ip: string;
  readonly node: string;
  readonly phase: string;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
}

/** Pods from `kubectl get pods -o json`. */
export function readSmokePods(value: unknown): SmokePod[] {
  return asArray(asObject(value).items).map((item) => {
    const pod = asObject(item);
    const metadata = asObject(pod.metadata);
    const status = asObject(pod.status);
    const ip = asString(status.podIP);
    return {
      name: asString(metadata.name),
      ip: ip === '' ? '' : canonicalAddress(ip),
      node: asString(asObject(pod.spec).nodeName),
      phase: asString(status.phase),
      ready: asArray(status.conditions).map(asObject).some((c) => c.type === 'Ready' && c.status === 'True'),
      terminating: asString(metadata.deletionTimestamp) !== '',
    };
  });
}

export interface SmokeServicePort {
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly nodePort: number;
}

export interface SmokeService {
  readonly name: string;
  /** Canonical IP, or "None" for headless. */
  readonly clusterIP: string;
  readonly ports: readonly SmokeServicePort[];
}

/** Services from `kubectl get services -o json`. */
export function readSmokeServices(value: unknown): SmokeService[] {
  return asArray(asObject(value).items).map((item) => {
    const service = asObject(item);
    const spec = asObject(service.spec);
    const clusterIP = asString(spec.clusterIP);
    return {
      name: asString(asObject(service.metadata).name),
      clusterIP: ipFamilyOf(clusterIP) === null ? clusterIP : canonicalAddress(clusterIP),
      ports: asArray(spec.ports).map(asObject).map((p) => ({ name: asString(p.name), protocol: asString(p.protocol) || 'TCP', port: asNumber(p.port), nodePort: asNumber(p.nodePort) })),
    };
  });
}

/** The ClusterIP of one Service object (`kubectl get service NAME -o json`). */
export function readClusterIP(value: unknown): string {
  const ip = asString(asObject(asObject(value).spec).clusterIP);
  return ipFamilyOf(ip) === null ? ip : canonicalAddress(ip);
}

/** The nameserver lines of a resolv.conf. */
export function readNameservers(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((a): a is string => a !== undefined && ipFamilyOf(a) !== null)
    .map(canonicalAddress);
}

/** The addresses in `dig +short` output (CNAME lines and comments are skipped). */
export function readDigShort(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => ipFamilyOf(line) !== null)
    .map(canonicalAddress);
}
