// Reads Services and EndpointSlices from Kubernetes API JSON (what
// `kubectl get services,endpointslices -A -o json` prints). Only the fields
// kube-proxy uses are validated; anything wrong there becomes a usage error
// that names the file and the JSON path.
import { usageError } from '../errors.js';
import type { LocalUpError } from '../errors.js';
import { canonicalAddress, ipFamilyOf, ipv4Number } from './ip.js';
import type {
  ClusterState,
  IpFamilyName,
  KubeEndpoint,
  KubeEndpointPort,
  KubeEndpointSlice,
  KubeLoadBalancerIngress,
  KubeService,
  KubeServicePort,
  ServiceProtocol,
  ServiceType,
  TrafficPolicy,
} from './types.js';

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const PROTOCOLS: readonly ServiceProtocol[] = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const POLICIES: readonly TrafficPolicy[] = ['Cluster', 'Local'];
const FAMILIES: readonly IpFamilyName[] = ['IPv4', 'IPv6'];
const AFFINITIES = ['None', 'ClientIP'] as const;
const TOPOLOGY_ANNOTATIONS = ['service.kubernetes.io/topology-aware-hints', 'service.kubernetes.io/topology-mode'];

const INPUT_HINT = 'give the output of `kubectl get services,endpointslices -A -o json` (a List, an array of objects or Lists, or one object)';

/** A JSON document and where it came from (a file name, for messages). */
export interface ClusterDocument {
  readonly text: string;
  readonly source: string;
}

/**
 * Where a value sits in the document ("items[3].spec.ports[0]"), turned into text only when a message
 * needs it. NOTE (speed): a cluster dump holds hundreds of thousands of values; building every one's
 * path as a string up front cost more than checking the values themselves.
 */
class Path {
  private constructor(
    private readonly parent: Path | null,
    /** A key (joined with a dot), or what goes between brackets: an index or a quoted key. */
    private readonly step: string | number,
    private readonly bracketed: boolean,
  ) {}

  /** The document itself; renders as "". */
  static readonly top = new Path(null, '', false);

  /** `.key` (just `key` at the top). */
  key(name: string): Path {
    return new Path(this, name, false);
  }

  /** `[i]`. */
  index(i: number): Path {
    return new Path(this, i, true);
  }

  /** `["name"]`, for keys that are not identifiers (labels, annotations). */
  quotedKey(name: string): Path {
    return new Path(this, JSON.stringify(name), true);
  }

  toString(): string {
    if (this.parent === null) return '';
    const head = this.parent.toString();
    if (this.bracketed) return `${head}[${this.step}]`;
    return head === '' ? String(this.step) : `${head}.${this.step}`;
  }
}

/** Thrown while walking one document; turned into a usage error naming the source. */
class FieldError extends Error {
  constructor(path: Path, readonly problem: string) {
    const text = path.toString();
    super(`${text === '' ? '(top level)' : text}: ${problem}`);
  }
}

type JsonObject = Record<string, unknown>;

/** Reads one or more JSON documents into one ClusterState. */
export function readClusterDocuments(documents: readonly ClusterDocument[]): ClusterState {
  const services: KubeService[] = [];
  const endpointSlices: KubeEndpointSlice[] = [];
  const ignoredKinds: Record<string, number> = {};
  for (const document of documents) {
    const part = readClusterJson(document.text, document.source);
    // NOTE: not push(...list): spreading a list of 100,000s of objects overflows V8's stack.
    for (const service of part.services) services.push(service);
    for (const slice of part.endpointSlices) endpointSlices.push(slice);
    for (const [kind, count] of Object.entries(part.ignoredKinds)) ignoredKinds[kind] = (ignoredKinds[kind] ?? 0) + count;
  }
  return { services, endpointSlices, ignoredKinds };
}

/** Reads one JSON document. `source` names it in error messages. */
export function readClusterJson(text: string, source: string): ClusterState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${source}: not valid JSON (${(error as Error).message})`, INPUT_HINT);
  }
  try {
    return readClusterValue(value);
  } catch (error) {
    if (error instanceof FieldError) throw sourceError(source, error);
    throw error;
  }
}

/** Reads an already parsed value (for callers that hold objects, e.g. a future live mode). */
export function readClusterValue(value: unknown): ClusterState {
  const services: KubeService[] = [];
  const endpointSlices: KubeEndpointSlice[] = [];
  const ignoredKinds: Record<string, number> = {};
  const visit = (item: unknown, path: Path, listKind: string | null): void => {
    const object = asObject(item, path);
    const kind = kindOf(object, path, listKind);
    if (kind === 'Service') services.push(readService(object, path));
    else if (kind === 'EndpointSlice') endpointSlices.push(readEndpointSlice(object, path));
    else ignoredKinds[kind] = (ignoredKinds[kind] ?? 0) + 1;
  };
  const visitList = (list: JsonObject, path: Path): void => {
    const listKind = typeof list.kind === 'string' ? list.kind : null;
    const items = list.items;
    const itemsPath = path.key('items');
    if (items === null) return;
    if (!Array.isArray(items)) throw new FieldError(itemsPath, `expected an array, found ${describe(items)}`);
    items.forEach((item, i) => visit(item, itemsPath.index(i), listKind));
  };

  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      const path = Path.top.index(i);
      const object = asObject(element, path);
      if ('items' in object) visitList(object, path);
      else visit(object, path, null);
    });
  } else {
    const object = asObject(value, Path.top);
    if ('items' in object) visitList(object, Path.top);
    else if (object.kind === 'Service' || object.kind === 'EndpointSlice') visit(object, Path.top, null);
    else throw new FieldError(Path.top, 'expected a List with "items", an array, or a Service or EndpointSlice object');
  }
  return { services, endpointSlices, ignoredKinds };
}

function sourceError(source: string, error: FieldError): LocalUpError {
  return usageError(`${source}: ${error.message}`, INPUT_HINT);
}

function kindOf(object: JsonObject, path: Path, listKind: string | null): string {
  if (object.kind !== undefined && object.kind !== null) {
    if (typeof object.kind !== 'string') throw new FieldError(path.key('kind'), 'expected a string');
    return object.kind;
  }
  // Lists read straight from the API (ServiceList...) leave out the kind of each item.
  if (listKind !== null && listKind.endsWith('List') && listKind !== 'List') return listKind.slice(0, -'List'.length);
  throw new FieldError(path.key('kind'), 'expected a string (Service or EndpointSlice)');
}

// ---- Service ---------------------------------------------------------------

function readService(object: JsonObject, path: Path): KubeService {
  const { namespace, name } = readMetadata(object, path);
  const metadataPath = path.key('metadata');
  const metadata = asObject(object.metadata, metadataPath);
  const annotations = optionalObject(metadata, 'annotations', metadataPath);
  const specPath = path.key('spec');
  const spec = asObject(object.spec, specPath);
  const type = optionalEnum(spec, 'type', specPath, SERVICE_TYPES) ?? 'ClusterIP';
  const clusterIP = serviceIp(optionalString(spec, 'clusterIP', specPath) ?? '', specPath, 'clusterIP');
  const clusterIPs = mapStrings(optionalStringArray(spec, 'clusterIPs', specPath), specPath.key('clusterIPs'), serviceIp);
  const ipFamilies = readArray(spec, 'ipFamilies', specPath, (family, familyPath) => {
    if (typeof family !== 'string' || !(FAMILIES as readonly string[]).includes(family)) {
      throw new FieldError(familyPath, `expected one of: ${FAMILIES.join(', ')}`);
    }
    return family as IpFamilyName;
  });
  const ports = readArray(spec, 'ports', specPath, readServicePort);
  const externalIPs = mapStrings(optionalStringArray(spec, 'externalIPs', specPath), specPath.key('externalIPs'), ipAddress);
  const sessionAffinity = optionalEnum(spec, 'sessionAffinity', specPath, AFFINITIES) ?? 'None';
  const affinityConfig = optionalObject(spec, 'sessionAffinityConfig', specPath);
  const clientIP = affinityConfig === null ? null : optionalObject(affinityConfig, 'clientIP', specPath.key('sessionAffinityConfig'));
  const affinityTimeoutSeconds = clientIP === null
    ? null
    : optionalInteger(clientIP, 'timeoutSeconds', specPath.key('sessionAffinityConfig.clientIP'), 0, 2_147_483_647);
  const topologyHint = readTopologyHint(annotations, spec, path);
  const hintsAnnotation = readHintsAnnotation(annotations, path);
  return {
    namespace,
    name,
    type,
    clusterIP,
    clusterIPs,
    ipFamilies,
    ports,
    externalIPs,
    loadBalancerIngress: readIngress(object, path),
    sessionAffinity,
    affinityTimeoutSeconds,
    externalTrafficPolicy: optionalEnum(spec, 'externalTrafficPolicy', specPath, POLICIES),
    internalTrafficPolicy: optionalEnum(spec, 'internalTrafficPolicy', specPath, POLICIES),
    topologyHint,
    hintsAnnotation,
  };
}

/** The annotation kube-proxy before 1.31 reads: the deprecated key wins whenever it is present (pkg/proxy/service.go, v1.29.15). */
function readHintsAnnotation(annotations: JsonObject | null, path: Path): string | null {
  if (annotations === null) return null;
  for (const key of TOPOLOGY_ANNOTATIONS) {
    const value = annotations[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new FieldError(path.key('metadata.annotations').quotedKey(key), 'expected a string');
    return value;
  }
  return null;
}

function readServicePort(value: unknown, path: Path): KubeServicePort {
  const port = asObject(value, path);
  return {
    name: optionalString(port, 'name', path) ?? '',
    protocol: optionalEnum(port, 'protocol', path, PROTOCOLS) ?? 'TCP',
    // NOTE: 0 is accepted: kube-proxy programs whatever port it is given (its own unit tests use port 0).
    port: requiredInteger(port, 'port', path, 0, 65535),
    nodePort: optionalInteger(port, 'nodePort', path, 0, 65535) ?? 0,
  };
}

function readIngress(object: JsonObject, path: Path): KubeLoadBalancerIngress[] {
  const status = optionalObject(object, 'status', path);
  if (status === null) return [];
  const statusPath = path.key('status');
  const loadBalancer = optionalObject(status, 'loadBalancer', statusPath);
  if (loadBalancer === null) return [];
  return readArray(loadBalancer, 'ingress', statusPath.key('loadBalancer'), (entry, entryPath) => {
    const ingress = asObject(entry, entryPath);
    const ip = optionalString(ingress, 'ip', entryPath);
    return {
      ip: ip === null || ip === '' ? null : ipAddress(ip, entryPath.key('ip')),
      ipMode: optionalString(ingress, 'ipMode', entryPath),
    };
  });
}

function readTopologyHint(annotations: JsonObject | null, spec: JsonObject, path: Path): string | null {
  if (annotations !== null) {
    for (const key of TOPOLOGY_ANNOTATIONS) {
      const value = annotations[key];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') throw new FieldError(path.key('metadata.annotations').quotedKey(key), 'expected a string');
      if (value !== '' && value.toLowerCase() !== 'disabled') return `${key}=${value}`;
    }
  }
  const distribution = optionalString(spec, 'trafficDistribution', path.key('spec'));
  return distribution === null || distribution === '' ? null : `trafficDistribution=${distribution}`;
}

/** ClusterIP fields hold an IP, "None" (headless) or "" (unset). */
function serviceIp(value: string, path: Path, key?: string): string {
  if (value === '' || value === 'None') return value;
  return ipAddress(value, path, key);
}

// ---- EndpointSlice -----------------------------------------------------------

function readEndpointSlice(object: JsonObject, path: Path): KubeEndpointSlice {
  const { namespace, name } = readMetadata(object, path);
  const metadataPath = path.key('metadata');
  const labels = optionalObject(asObject(object.metadata, metadataPath), 'labels', metadataPath);
  const label = labels?.[SERVICE_NAME_LABEL];
  if (label !== undefined && label !== null && typeof label !== 'string') {
    throw new FieldError(metadataPath.key('labels').quotedKey(SERVICE_NAME_LABEL), 'expected a string');
  }
  const addressType = requiredString(object, 'addressType', path);
  const ports = readArray(object, 'ports', path, readEndpointPort);
  const ipSlice = addressType === 'IPv4' || addressType === 'IPv6';
  const endpoints = readArray(object, 'endpoints', path, (endpoint, endpointPath) => readEndpoint(endpoint, endpointPath, ipSlice));
  return { namespace, name, serviceName: typeof label === 'string' ? label : null, addressType, ports, endpoints };
}

function readEndpointPort(value: unknown, path: Path): KubeEndpointPort {
  const port = asObject(value, path);
  return {
    name: optionalString(port, 'name', path),
    port: optionalInteger(port, 'port', path, 0, 65535),
    protocol: optionalEnum(port, 'protocol', path, PROTOCOLS) ?? 'TCP',
  };
}

function readEndpoint(value: unknown, path: Path, ipSlice: boolean): KubeEndpoint {
  const endpoint = asObject(value, path);
  const addresses = mapStrings(requiredStringArray(endpoint, 'addresses', path), path.key('addresses'), ipSlice ? ipAddress : (address) => address);
  const conditions = optionalObject(endpoint, 'conditions', path);
  const conditionsPath = conditions === null ? null : path.key('conditions');
  const condition = (key: string): boolean | null => (conditions === null || conditionsPath === null ? null : optionalBoolean(conditions, key, conditionsPath));
  const hints = optionalObject(endpoint, 'hints', path);
  const hintsPath = hints === null ? null : path.key('hints');
  const zones = hints === null || hintsPath === null ? [] : optionalArray(hints, 'forZones', hintsPath);
  const nodes = hints === null || hintsPath === null ? [] : optionalArray(hints, 'forNodes', hintsPath);
  const hintNames = (list: unknown[], field: string): string[] => {
    if (list.length === 0) return [];
    const listPath = path.key(`hints.${field}`);
    return list.map((hint, i) => requiredString(asObject(hint, listPath.index(i)), 'name', listPath.index(i)));
  };
  return {
    addresses,
    ready: condition('ready') ?? true,
    serving: condition('serving') ?? true,
    terminating: condition('terminating') ?? false,
    nodeName: optionalString(endpoint, 'nodeName', path),
    hasZoneHints: zones.length > 0,
    zoneHints: hintNames(zones, 'forZones'),
    nodeHints: hintNames(nodes, 'forNodes'),
  };
}

// ---- shared field readers ----------------------------------------------------

function readMetadata(object: JsonObject, path: Path): { namespace: string; name: string } {
  const metadataPath = path.key('metadata');
  const metadata = asObject(object.metadata, metadataPath);
  return {
    name: requiredString(metadata, 'name', metadataPath),
    // Namespaced objects always carry it in kubectl output; hand-written files may rely on the default.
    namespace: optionalString(metadata, 'namespace', metadataPath) ?? 'default',
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function asObject(value: unknown, path: Path): JsonObject {
  if (value === undefined) throw new FieldError(path, 'expected an object (the field is required)');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FieldError(path, `expected an object, found ${describe(value)}`);
  }
  return value as JsonObject;
}

function optionalObject(object: JsonObject, key: string, path: Path): JsonObject | null {
  const value = object[key];
  return value === undefined || value === null ? null : asObject(value, path.key(key));
}

function optionalArray(object: JsonObject, key: string, path: Path): unknown[] {
  const value = object[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(path.key(key), `expected an array, found ${describe(value)}`);
  return value;
}

/** Each element of an optional array, read by `read` with the element's path (made only when the array has elements). */
function readArray<T>(object: JsonObject, key: string, path: Path, read: (element: unknown, elementPath: Path) => T): T[] {
  const list = optionalArray(object, key, path);
  if (list.length === 0) return [];
  const listPath = path.key(key);
  return list.map((element, i) => read(element, listPath.index(i)));
}

/** Every element is checked to be a string before any is used: the first that is not is the error. */
function optionalStringArray(object: JsonObject, key: string, path: Path): readonly string[] {
  const list = optionalArray(object, key, path);
  list.forEach((value, i) => {
    if (typeof value !== 'string') throw new FieldError(path.key(key).index(i), `expected a string, found ${describe(value)}`);
  });
  return list as string[];
}

function requiredStringArray(object: JsonObject, key: string, path: Path): readonly string[] {
  if (object[key] === undefined || object[key] === null) throw new FieldError(path.key(key), 'expected an array of strings (the field is required)');
  return optionalStringArray(object, key, path);
}

/** A new array of `read` applied to each string, with the path of each element (made only when there are elements). */
function mapStrings(list: readonly string[], listPath: Path, read: (value: string, path: Path) => string): string[] {
  return list.map((value, i) => read(value, listPath.index(i)));
}

function optionalString(object: JsonObject, key: string, path: Path): string | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new FieldError(path.key(key), `expected a string, found ${describe(value)}`);
  return value;
}

function requiredString(object: JsonObject, key: string, path: Path): string {
  const value = optionalString(object, key, path);
  if (value === null) throw new FieldError(path.key(key), 'expected a string (the field is required)');
  return value;
}

function optionalBoolean(object: JsonObject, key: string, path: Path): boolean | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new FieldError(path.key(key), `expected true or false, found ${describe(value)}`);
  return value;
}

function optionalInteger(object: JsonObject, key: string, path: Path, min: number, max: number): number | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw new FieldError(path.key(key), `expected a number, found ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FieldError(path.key(key), `expected a whole number from ${min} to ${max}, found ${value}`);
  }
  return value;
}

function requiredInteger(object: JsonObject, key: string, path: Path, min: number, max: number): number {
  const value = optionalInteger(object, key, path, min, max);
  if (value === null) throw new FieldError(path.key(key), 'expected a number (the field is required)');
  return value;
}

function optionalEnum<T extends string>(object: JsonObject, key: string, path: Path, values: readonly T[]): T | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new FieldError(path.key(key), `expected one of: ${values.join(', ')}; found ${describe(value)}`);
  }
  return value as T;
}

/** An IP address at `path` (or at its `key`), made canonical. */
function ipAddress(value: string, path: Path, key?: string): string {
  // NOTE (speed): nearly every address in a dump is plain IPv4, already canonical: one scan decides.
  if (ipv4Number(value) >= 0) return value;
  if (ipFamilyOf(value) === null) throw new FieldError(key === undefined ? path : path.key(key), `expected an IP address, found ${JSON.stringify(value)}`);
  return canonicalAddress(value);
}
