// kubectl through the Runner: every call names its kubeconfig explicitly (never
// the user's current context by accident), has a named timeout, and puts
// kubectl's stderr in the error the user sees. The readers below are pure: they
// take the JSON kubectl printed and return data.
import YAML from 'yaml';
import { ExitCode, LocalUpError, unavailableError } from '../errors.js';
import type { RunResult, Runner } from '../exec/runner.js';
import { describeFailure, tail } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import { canonicalAddress, ipFamilyOf } from './ip.js';


/** kubectl from the KUBECTL variable (a path or name), else PATH. */
export function findKubectl(env: Readonly<Record<string, string | undefined>>): { path: string | null; foundVia: string | null } {
  const named = env.KUBECTL;
  if (named !== undefined && named !== '') {
    const path = findExecutable(named, env, []);
    return { path, foundVia: path === null ? null : 'KUBECTL' };
  }
  const path = findExecutable('kubectl', env, []);
  return { path, foundVia: path === null ? null : 'PATH' };
}

/**
 * For `kubectl create/apply -f` of objects this tool generates: no client-side schema validation.
 * kubectl's default (--validate=strict) may first fetch the API server's OpenAPI document
 * (GET /openapi/v2?timeout=32s, a fixed timeout of its discovery client, not --request-timeout),
 * which a first request makes the API server build; in the lab, under software emulation, that
 * took longer than 32 s and `smoke` failed before creating anything. The API server still
 * rejects invalid objects; unknown fields are the only thing no longer reported, and the
 * manifests are unit-tested. kubectl: "--validate=...: ignore (or false)".
 */
export const NO_CLIENT_VALIDATION = '--validate=false';

export interface KubectlOptions {
  readonly runner: Runner;
  /** The kubectl executable. */
  readonly path: string;
  /** Always passed as --kubeconfig. */
  readonly kubeconfig: string;
  /** The deadline of one call that names none itself (KUBECTL_TIMEOUT, in ms). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Each command line and its failures, for the run log. */
  readonly log?: (line: string) => void;
}

export interface KubectlRunOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly signal?: AbortSignal;
}

const isNotFound = (result: RunResult): boolean => result.exitCode !== 0 && /\(NotFound\)|not found/i.test(result.stderr);

export class Kubectl {
  constructor(readonly options: KubectlOptions) {}

  /**
   * The deadline of a call that does timed work of its own (`wait --timeout`, a probe run with
   * `exec`): that work, plus one ordinary call's deadline (KUBECTL_TIMEOUT) for kubectl itself,
   * which on a slow machine is not a small margin.
   */
  deadline(workMs: number): number {
    return workMs + this.options.timeoutMs;
  }

  /** Runs kubectl with --kubeconfig first; never throws for a non-zero exit. */
  async run(args: readonly string[], options: KubectlRunOptions = {}): Promise<RunResult> {
    const signal = options.signal ?? this.options.signal;
    const result = await this.options.runner.run(this.options.path, ['--kubeconfig', this.options.kubeconfig, ...args], {
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(signal === undefined ? {} : { signal }),
    });
    this.options.log?.(`${result.command} -> ${result.exitCode ?? result.signal ?? 'killed'}`);
    if (result.exitCode !== 0 && result.stderr.trim() !== '') this.options.log?.(tail(result.stderr, 10));
    return result;
  }

  /** Runs kubectl and returns stdout, or throws with kubectl's stderr. */
  async text(args: readonly string[], what: string, options: KubectlRunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.exitCode !== 0) throw this.failure(result, what, options.timeoutMs ?? this.options.timeoutMs);
    return result.stdout;
  }

  /** `kubectl get ... -o json`, parsed; null when the object does not exist. */
  async getJson(args: readonly string[], what: string): Promise<unknown | null> {
    const result = await this.run(['get', ...args, '-o', 'json']);
    if (isNotFound(result)) return null;
    if (result.exitCode !== 0) throw this.failure(result, what, this.options.timeoutMs);
    try {
      return JSON.parse(result.stdout) as unknown;
    } catch (error) {
      throw new LocalUpError(ExitCode.unavailable, `${what}: kubectl printed something that is not JSON (${(error as Error).message})`, {
        details: tail(result.stdout, 5),
      });
    }
  }

  /** Services and EndpointSlices of every namespace, as the JSON text `assert` reads. */
  clusterJson(): Promise<string> {
    return this.text(['get', 'services,endpointslices', '-A', '-o', 'json'], 'reading Services and EndpointSlices');
  }

  async nodes(): Promise<KubeNode[]> {
    return readNodeList(await this.getJson(['nodes'], 'listing the nodes'));
  }

  /** The last lines of a workload's log (`logs ds/kube-proxy --tail N`), or the reason it could not be read. */
  async logTail(namespace: string, target: string, lines: number): Promise<string> {
    const result = await this.run(['-n', namespace, 'logs', target, `--tail=${lines}`, '--all-containers=true', '--prefix=true']);
    if (result.exitCode === 0) return result.stdout.trimEnd() === '' ? '(empty log)' : result.stdout.trimEnd();
    return `(could not read the log: ${describeFailure(result)}: ${tail(result.stderr, 3)})`;
  }

  failure(result: RunResult, what: string, timeoutMs: number): LocalUpError {
    const unreachable = /connection refused|no such host|Unable to connect|i\/o timeout|dial tcp|the server could not find|couldn't get current server API/i.test(result.stderr);
    return new LocalUpError(ExitCode.unavailable, `${what} failed: ${describeFailure(result, timeoutMs)}`, {
      details: tail(result.stderr || result.stdout, 10),
      hint: result.timedOut
        ? `kubectl took longer than ${Math.round(timeoutMs / 1000)}s; on a slow or emulated machine raise KUBECTL_TIMEOUT (seconds), or run the command yourself: ${result.command}`
        : unreachable
          ? `the API server in ${this.options.kubeconfig} does not answer; is the cluster running? (local-up status)`
          : `run the command yourself to see more: ${result.command}`,
    });
  }
}

/** kubectl is needed and missing: the exact way to get it. */
export function kubectlMissing(): LocalUpError {
  return unavailableError('kubectl not found (KUBECTL, or PATH)', {
    hint: 'install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL to its path',
  });
}


// ---- pure readers ------------------------------------------------------------

type JsonObject = Record<string, unknown>;
const asObject = (value: unknown): JsonObject => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asNumber = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

export interface KubeNode {
  readonly name: string;
  /** status.addresses of type InternalIP (canonical). */
  readonly internalIPs: readonly string[];
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** The topology.kubernetes.io/zone label, or null (zone hints then never apply to its kube-proxy). */
  readonly zone: string | null;
  /** status.nodeInfo.kubeletVersion ("v1.34.11"), or null when the node reports none. */
  readonly kubeletVersion: string | null;
}

/** The well-known zone label kube-proxy compares zone hints with (pkg/proxy/topology.go). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Nodes from `kubectl get nodes -o json` (a List). */
export function readNodeList(value: unknown): KubeNode[] {
  return asArray(asObject(value).items).map((item) => {
    const node = asObject(item);
    const status = asObject(node.status);
    const internalIPs = asArray(status.addresses)
      .map(asObject)
      .filter((a) => a.type === 'InternalIP' && ipFamilyOf(asString(a.address)) !== null)
      .map((a) => canonicalAddress(asString(a.address)));
    const ready = asArray(status.conditions).map(asObject).some((c) => c.type === 'Ready' && c.status === 'True');
    const metadata = asObject(node.metadata);
    const zone = asString(asObject(metadata.labels)[ZONE_LABEL]);
    const kubeletVersion = asString(asObject(status.nodeInfo).kubeletVersion);
    return { name: asString(metadata.name), internalIPs, ready, zone: zone === '' ? null : zone, kubeletVersion: kubeletVersion === '' ? null : kubeletVersion };
  });
}

export interface RolloutState {
  readonly done: boolean;
  /** "kube-proxy: 2/3 pods updated, 1/3 available" */
  readonly message: string;
}

/**
 * Whether a DaemonSet finished rolling out, judged as `kubectl rollout status` does: the
 * controller saw the latest spec, and every scheduled pod is updated and available. A DaemonSet
 * with no pod scheduled is not ready here: kube-proxy must run on every node.
 */
export function isDaemonSetRolledOut(ds: unknown): RolloutState {
  const object = asObject(ds);
  const name = asString(asObject(object.metadata).name) || 'DaemonSet';
  const generation = asNumber(asObject(object.metadata).generation);
  const status = asObject(object.status);
  const observed = asNumber(status.observedGeneration);
  const desired = asNumber(status.desiredNumberScheduled);
  const updated = asNumber(status.updatedNumberScheduled);
  const available = asNumber(status.numberAvailable);
  const ready = asNumber(status.numberReady);
  if (generation > observed) return { done: false, message: `${name}: waiting for the controller to observe generation ${generation} (seen ${observed})` };
  if (desired === 0) return { done: false, message: `${name}: no pods scheduled yet (0 nodes selected)` };
  const counts = `${updated}/${desired} pods updated, ${available}/${desired} available, ${ready}/${desired} ready`;
  return { done: updated >= desired && available >= desired, message: `${name}: ${counts}` };
}

/** Whether a Deployment (CoreDNS) is Available with all its replicas up to date. */
export function isDeploymentAvailable(deployment: unknown): RolloutState {
  const object = asObject(deployment);
  const name = asString(asObject(object.metadata).name) || 'Deployment';
  const wanted = asNumber(asObject(object.spec).replicas);
  const status = asObject(object.status);
  const available = asNumber(status.availableReplicas);
  const updated = asNumber(status.updatedReplicas);
  const condition = asArray(status.conditions).map(asObject).find((c) => c.type === 'Available');
  const conditionTrue = condition?.status === 'True';
  const done = conditionTrue && available >= wanted && updated >= wanted;
  return { done, message: `${name}: ${available}/${wanted} replicas available, ${updated}/${wanted} updated${conditionTrue ? '' : ' (Available condition not True)'}` };
}

/**
 * kube-proxy's mode from its kubeadm ConfigMap: `data["config.conf"]` is a
 * KubeProxyConfiguration; `mode` empty or absent means kube-proxy's default.
 */
export function proxyModeFromConfigMap(configMap: unknown): string {
  const data = asObject(asObject(configMap).data);
  const text = data['config.conf'];
  if (typeof text !== 'string') throw new LocalUpError(ExitCode.failed, 'the kube-proxy ConfigMap has no config.conf', { details: Object.keys(data).join(', ') });
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (error) {
    throw new LocalUpError(ExitCode.failed, `the kube-proxy ConfigMap's config.conf is not YAML: ${(error as Error).message}`);
  }
  return asString(asObject(parsed).mode);
}

export interface PodSummary {
  readonly name: string;
  readonly nodeName: string;
  readonly phase: string;
  /** The pod's Ready condition is True. */
  readonly ready: boolean;
}

/** Pods from `kubectl get pods -o json`. */
export function readPodList(value: unknown): PodSummary[] {
  return asArray(asObject(value).items).map((item) => {
    const pod = asObject(item);
    const status = asObject(pod.status);
    const ready = asArray(status.conditions).some((c) => asString(asObject(c).type) === 'Ready' && asString(asObject(c).status) === 'True');
    return { name: asString(asObject(pod.metadata).name), nodeName: asString(asObject(pod.spec).nodeName), phase: asString(status.phase), ready };
  });
}
