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
export const ORACLE_NODE = { name: 'oracle-node', ip: '192.168.50.10', ip6: 'fd00:50::10', internalIPs: ['192.168.50.10', 'fd00:50::10'], zone: 'zone-a' } as const;

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
  /**
   * kube-proxy's nodePortAddresses for this case (CIDRs, or "primary"), or null for the default
   * configuration (none). Cases with the same list form one group: the guest runs a kube-proxy with
   * that configuration for them alone (see planOracleFiles).
   */
  readonly nodePortAddresses: readonly string[] | null;
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
  const known = new Set(['description', 'mayBeRejected', 'objects', 'then', 'nodePortAddresses']);
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
  let nodePortAddresses: string[] | null = null;
  if (value.nodePortAddresses !== undefined && value.nodePortAddresses !== null) {
    const list = value.nodePortAddresses;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item.trim() !== '')) {
      bad('nodePortAddresses: a non-empty list of CIDRs and keywords (primary; localhost and all from 1.37) is required');
    }
    if (then !== null) bad('nodePortAddresses: a case with its own kube-proxy configuration cannot have a then state');
    nodePortAddresses = (list as string[]).map((item) => item.trim());
  }
  return { name, description: (value.description as string).trim(), mayBeRejected: typeof mayBeRejected === 'string' ? mayBeRejected.trim() : null, objects, then, nodePortAddresses };
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

/**
 * Whether kube-proxy counts the slice in kubeproxy_sync_proxy_rules_endpoint_changes_total: one of
 * its address types (IPv4, IPv6; never FQDN) that names its Service. From 1.30 each family's proxier
 * counts only its own type (pkg/proxy/endpointschangetracker.go EndpointSliceUpdate at v1.34.11), so
 * the shared counter grows once per slice; at 1.29.15 both proxiers count both types
 * (pkg/proxy/endpoints.go supportedEndpointSliceAddressTypes), twice per slice. The guest waits for at least this many.
 */
function countsAsSliceEvent(o: OracleObject): boolean {
  return (o.addressType === 'IPv4' || o.addressType === 'IPv6') && hasServiceName(o);
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
    else if (countsAsSliceEvent(o)) sliceEvents += 1;
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

/** The case's ClusterIPs (clusterIP and clusterIPs, both families) as written in its Services (the guest alters only these virtual servers). */
export function caseClusterIPs(c: OracleCase): string[] {
  const ips: string[] = [];
  for (const o of c.objects) {
    const spec = o.kind === 'Service' && isObject(o.body.spec) ? o.body.spec : null;
    if (spec === null) continue;
    const written = [spec.clusterIP, ...(Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [])];
    for (const ip of written) if (typeof ip === 'string' && ip !== 'None' && ip !== '' && !ips.includes(ip)) ips.push(ip);
  }
  return ips;
}

/** How an address starts a virtual server in `ipvsadm -Sn` and in findings: "10.96.1.10:" or "[fd00:96::1:10]:". */
export function vipMark(ip: string): string {
  return ip.includes(':') ? `[${ip}]:` : `${ip}:`;
}

/** Cases that share one kube-proxy configuration (their nodePortAddresses). Group ids count from 1 in case order. */
export interface OracleGroup {
  readonly id: number;
  readonly nodePortAddresses: readonly string[];
  /** Indexes into the catalogue. */
  readonly caseIndexes: readonly number[];
}

/** The catalogue's nodePortAddresses groups (cases without the field run with the default configuration and are in none). */
export function oracleGroups(cases: readonly OracleCase[]): OracleGroup[] {
  const groups: { id: number; nodePortAddresses: readonly string[]; caseIndexes: number[] }[] = [];
  cases.forEach((c, i) => {
    if (c.nodePortAddresses === null) return;
    const key = c.nodePortAddresses.join(',');
    const group = groups.find((g) => g.nodePortAddresses.join(',') === key);
    if (group !== undefined) group.caseIndexes.push(i);
    else groups.push({ id: groups.length + 1, nodePortAddresses: c.nodePortAddresses, caseIndexes: [i] });
  });
  return groups;
}

/** The prefix of a group's files and output sections ("group-2-"); '' for the default configuration. */
export function groupPrefix(id: number | null): string {
  return id === null ? '' : `group-${id}-`;
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
export function planOracleFiles(cases: readonly OracleCase[], runGroups: readonly number[] = oracleGroups(cases).map((g) => g.id)): Record<string, string> {
  const files: Record<string, string> = {};
  const owners = new Map<string, string>();
  const groups = oracleGroups(cases);
  const groupOf = (i: number): number | null => groups.find((g) => g.caseIndexes.includes(i))?.id ?? null;
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
      else if (countsAsSliceEvent(o)) sliceEvents += 1;
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
    const group = groupOf(i);
    const lines = [
      `# ${c.description.replaceAll('\n', ' ')}`,
      `NAMESPACES=(${namespaces.map(quote).join(' ')})`,
      `CREATE=(${create.map(quote).join(' ')})`,
      // How each ClusterIP starts a virtual server in ipvsadm -Sn ("10.96.1.10:", "[fd00:96::1:10]:").
      `VIPS=(${caseClusterIPs(c).map(vipMark).map(quote).join(' ')})`,
      `SERVICE_EVENTS=${serviceEvents}`,
      `SLICE_EVENTS=${sliceEvents}`,
      `MAY_BE_REJECTED=${c.mayBeRejected === null ? 0 : 1}`,
    ];
    // A group's case is deleted after its run, so the next kube-proxy starts without it.
    if (group !== null) lines.push(`REMOVE=(${c.objects.map((o) => quote(`DELETE ${collectionPath(o)}/${o.name}`)).join(' ')})`);
    if (group === null || runGroups.includes(group)) files[`${groupPrefix(group)}${prefix}.sh`] = [...lines, ''].join('\n');
  });
  if (groups.length > 0) files['groups.sh'] = `GROUP_IDS=(${groups.filter((g) => runGroups.includes(g.id)).map((g) => g.id).join(' ')})\n`;
  return files;
}
