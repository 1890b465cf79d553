// The oracle's cases: small YAML files of Services and EndpointSlices
// (test/fixtures/oracle/*.yaml), and the files the guest script
// (hack/oracle/guest.sh) reads to create and delete them through the API.
// Pure: text in, data out.
import { parse } from 'yaml';

/** The label our EndpointSlices carry, so no controller takes them for its own. */
export const ORACLE_MANAGED_BY = 'kube-local-up-oracle';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The node kube-proxy runs on in the oracle VM (hack/oracle/guest.sh makes it). */
export const ORACLE_NODE = { name: 'oracle-node', ip: '192.168.50.10', zone: 'zone-a' } as const;

type JsonObject = Record<string, unknown>;

export interface OracleObject {
  readonly kind: 'Service' | 'EndpointSlice';
  readonly namespace: string;
  readonly name: string;
  /** The object as created (status removed; our managed-by label added to EndpointSlices). */
  readonly body: JsonObject;
  /** A Service's status (load-balancer ingress), applied after creation through the status subresource. */
  readonly status: JsonObject | null;
  readonly addressType: string | null;
}

export interface OracleCase {
  /** The file name without .yaml, e.g. "clusterip-tcp". */
  readonly name: string;
  readonly description: string;
  /**
   * Why some API servers refuse this case's objects (e.g. a non-canonical IP under stricter
   * validation), or null. Such a case may come back "rejected" instead of being judged; any other
   * case that an API server refuses fails the run.
   */
  readonly mayBeRejected: string | null;
  readonly objects: readonly OracleObject[];
  /** A second state applied to the running kube-proxy after the first is checked, or null. */
  readonly then: OracleChange | null;
}

/** A case's second state: objects changed (merge-patched whole) and objects deleted. */
export interface OracleChange {
  readonly description: string;
  /** Objects of the case as they become; each must already exist in the case and differ from it. */
  readonly apply: readonly OracleObject[];
  readonly remove: readonly { readonly kind: 'Service' | 'EndpointSlice'; readonly namespace: string; readonly name: string }[];
}

export class OracleCaseError extends Error {}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one case file: `description` and `objects` (Services and EndpointSlices as kubectl takes them). */
export function readOracleCase(name: string, text: string): OracleCase {
  const bad = (why: string): never => {
    throw new OracleCaseError(`oracle case ${name}: ${why}`);
  };
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) bad('the file name must be lower-case letters, digits and dashes');
  const value: unknown = parse(text);
  if (!isObject(value)) return bad('expected a mapping with description and objects');
  if (typeof value.description !== 'string' || value.description.trim() === '') bad('description: a sentence is required');
  const mayBeRejected = value.mayBeRejected ?? null;
  if (mayBeRejected !== null && (typeof mayBeRejected !== 'string' || mayBeRejected.trim() === '')) bad('mayBeRejected: a sentence saying which API servers refuse the case, and why');
  const known = new Set(['description', 'mayBeRejected', 'objects', 'then']);
  for (const key of Object.keys(value)) if (!known.has(key)) bad(`unknown field ${key} (known: ${[...known].join(', ')})`);
  if (!Array.isArray(value.objects) || value.objects.length === 0) bad('objects: a non-empty list is required');
  const objects = (value.objects as unknown[]).map((item, i) => readObject(item, `objects[${i}]`, bad));
  const seen = new Set<string>();
  for (const o of objects) {
    const key = `${o.kind}/${o.namespace}/${o.name}`;
    if (seen.has(key)) bad(`${key} appears twice`);
    seen.add(key);
  }
  const then = value.then === undefined || value.then === null ? null : readChange(value.then, objects, bad);
  return { name, description: (value.description as string).trim(), mayBeRejected: typeof mayBeRejected === 'string' ? mayBeRejected.trim() : null, objects, then };
}

function readChange(value: unknown, objects: readonly OracleObject[], bad: (why: string) => never): OracleChange {
  if (!isObject(value)) return bad('then: expected a mapping with description, apply and/or delete');
  if (typeof value.description !== 'string' || value.description.trim() === '') bad('then.description: a sentence is required');
  const has = (kind: string, namespace: string, name: string): boolean => objects.some((o) => o.kind === kind && o.namespace === namespace && o.name === name);
  const apply = (Array.isArray(value.apply) ? (value.apply as unknown[]) : []).map((item, i) => readObject(item, `then.apply[${i}]`, bad));
  for (const o of apply) if (!has(o.kind, o.namespace, o.name)) bad(`then.apply: ${o.kind} ${o.namespace}/${o.name} is not among the case's objects`);
  const remove = (Array.isArray(value.delete) ? (value.delete as unknown[]) : []).map((item, i) => {
    if (!isObject(item) || (item.kind !== 'Service' && item.kind !== 'EndpointSlice') || typeof item.name !== 'string') {
      return bad(`then.delete[${i}]: expected {kind: Service|EndpointSlice, name, namespace?}`);
    }
    const ref = { kind: item.kind as 'Service' | 'EndpointSlice', namespace: typeof item.namespace === 'string' ? item.namespace : 'default', name: item.name };
    if (!has(ref.kind, ref.namespace, ref.name)) bad(`then.delete: ${ref.kind} ${ref.namespace}/${ref.name} is not among the case's objects`);
    return ref;
  });
  if (apply.length + remove.length === 0) bad('then: apply or delete at least one object');
  return { description: (value.description as string).trim(), apply, remove };
}

function readObject(item: unknown, path: string, bad: (why: string) => never): OracleObject {
  if (!isObject(item)) return bad(`${path}: expected an object`);
  const kind = item.kind;
  if (kind !== 'Service' && kind !== 'EndpointSlice') return bad(`${path}: kind must be Service or EndpointSlice`);
  const metadata = item.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string') return bad(`${path}: metadata.name is required`);
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  const { status, ...rest } = item;
  const body: JsonObject = {
    ...rest,
    apiVersion: kind === 'Service' ? 'v1' : 'discovery.k8s.io/v1',
    metadata: { ...metadata, namespace },
  };
  if (kind === 'EndpointSlice') {
    const labels = isObject(metadata.labels) ? metadata.labels : {};
    body.metadata = { ...metadata, namespace, labels: { [MANAGED_BY_LABEL]: ORACLE_MANAGED_BY, ...labels } };
    if (typeof item.addressType !== 'string') bad(`${path}: addressType is required`);
  }
  const lbStatus = kind === 'Service' && isObject(status) && isObject(status.loadBalancer) ? { status: { loadBalancer: status.loadBalancer } } : null;
  return { kind, namespace, name: metadata.name, body, status: lbStatus, addressType: kind === 'EndpointSlice' ? (item.addressType as string) : null };
}

function hasServiceName(o: OracleObject): boolean {
  const metadata = o.body.metadata;
  return isObject(metadata) && isObject(metadata.labels) && typeof metadata.labels[SERVICE_NAME_LABEL] === 'string';
}

function collectionPath(o: OracleObject): string {
  return o.kind === 'Service' ? `/api/v1/namespaces/${o.namespace}/services` : `/apis/discovery.k8s.io/v1/namespaces/${o.namespace}/endpointslices`;
}

/** The guest's `then-oracle-NN-name.sh` and bodies for a case's second state. */
function planChange(change: OracleChange, prefix: string): Record<string, string> {
  const files: Record<string, string> = {};
  const requests: string[] = [];
  let serviceEvents = 0;
  let sliceEvents = 0;
  change.apply.forEach((o, j) => {
    const body = `then-${prefix}.${j}.json`;
    files[body] = JSON.stringify(o.body);
    // A merge patch of the whole object: lists (ports, endpoints) are replaced as written.
    requests.push(`PATCH ${collectionPath(o)}/${o.name} ${body} application/merge-patch+json`);
    if (o.kind === 'Service') serviceEvents += 1;
    else if (o.addressType === 'IPv4' && hasServiceName(o)) sliceEvents += 1;
  });
  for (const ref of change.remove) {
    requests.push(`DELETE ${ref.kind === 'Service' ? `/api/v1/namespaces/${ref.namespace}/services` : `/apis/discovery.k8s.io/v1/namespaces/${ref.namespace}/endpointslices`}/${ref.name}`);
    if (ref.kind === 'Service') serviceEvents += 1;
    // NOTE: a deleted slice is counted like a created one; the cases delete only IPv4 slices that name their Service.
    else sliceEvents += 1;
  }
  files[`then-${prefix}.sh`] = [
    `# then: ${change.description.replaceAll('\n', ' ')}`,
    `THEN=(${requests.map(quote).join(' ')})`,
    `THEN_SERVICE_EVENTS=${serviceEvents}`,
    `THEN_SLICE_EVENTS=${sliceEvents}`,
    '',
  ].join('\n');
  return files;
}

/** Quotes a word for bash. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The case's ClusterIPs as written in its Services (the guest alters only these virtual servers). */
export function caseClusterIPs(c: OracleCase): string[] {
  const ips: string[] = [];
  for (const o of c.objects) {
    const spec = o.kind === 'Service' && isObject(o.body.spec) ? o.body.spec : null;
    if (spec !== null && typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None' && spec.clusterIP !== '') ips.push(spec.clusterIP);
  }
  return ips;
}

/** "oracle-01-clusterip-tcp": the case's name in the guest's files and output. */
export function guestCaseName(c: OracleCase, index: number): string {
  return `oracle-${String(index + 1).padStart(2, '0')}-${c.name}`;
}

/**
 * The guest's files for the cases, flat names in the lab's /run/lab: per case `oracle-NN-name.sh`
 * (what to create, its ClusterIPs, and how many change events kube-proxy must see) and one JSON file
 * per request body. Every case is created in the same cluster, so names, ClusterIPs and NodePorts
 * must not repeat across cases.
 */
export function planOracleFiles(cases: readonly OracleCase[]): Record<string, string> {
  const files: Record<string, string> = {};
  const owners = new Map<string, string>();
  cases.forEach((c, i) => {
    for (const o of c.objects) {
      const key = `${o.kind} ${o.namespace}/${o.name}`;
      const owner = owners.get(key);
      if (owner !== undefined) throw new OracleCaseError(`oracle case ${c.name}: ${key} is also in case ${owner}; names must not repeat across cases`);
      owners.set(key, c.name);
    }
    const prefix = guestCaseName(c, i);
    const create: string[] = [];
    let serviceEvents = 0;
    let sliceEvents = 0;
    c.objects.forEach((o, j) => {
      const body = `${prefix}.${j}.json`;
      files[body] = JSON.stringify(o.body);
      create.push(`POST ${collectionPath(o)} ${body}`);
      // NOTE: kube-proxy counts every Service event, but only EndpointSlices of its own family that
      // name their Service (pkg/proxy/endpointschangetracker.go returns before counting the others).
      if (o.kind === 'Service') serviceEvents += 1;
      else if (o.addressType === 'IPv4' && hasServiceName(o)) sliceEvents += 1;
      // A status patch is an event of its own only when kube-proxy watches while we write; the
      // guest pauses it, and a resumed (or re-listed) watch may fold it into the Service's creation.
      // So the guest waits for at least one event per object.
      if (o.status !== null) {
        const status = `${prefix}.${j}.status.json`;
        files[status] = JSON.stringify(o.status);
        create.push(`PATCH ${collectionPath(o)}/${o.name}/status ${status} application/merge-patch+json`);
      }
    });
    if (c.then !== null) Object.assign(files, planChange(c.then, prefix));
    const namespaces = [...new Set(c.objects.map((o) => o.namespace))];
    files[`${prefix}.sh`] = [
      `# ${c.description.replaceAll('\n', ' ')}`,
      `NAMESPACES=(${namespaces.map(quote).join(' ')})`,
      `CREATE=(${create.map(quote).join(' ')})`,
      `VIPS=(${caseClusterIPs(c).map(quote).join(' ')})`,
      `SERVICE_EVENTS=${serviceEvents}`,
      `SLICE_EVENTS=${sliceEvents}`,
      `MAY_BE_REJECTED=${c.mayBeRejected === null ? 0 : 1}`,
      '',
    ].join('\n');
  });
  return files;
}
