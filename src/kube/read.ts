// Reads Services and EndpointSlices from Kubernetes API JSON (what
// `kubectl get services,endpointslices -A -o json` prints). Only the fields
// kube-proxy uses are validated; anything wrong there becomes a usage error
// that names the file and the JSON path.
import { usageError } from '../errors.js';
import type { LocalUpError } from '../errors.js';
import { canonicalAddress, ipFamilyOf } from './ip.js';
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

/** Thrown while walking one document; turned into a usage error naming the source. */
class FieldError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path === '' ? '(top level)' : path}: ${problem}`);
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
    services.push(...part.services);
    endpointSlices.push(...part.endpointSlices);
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
  const visit = (item: unknown, path: string, listKind: string | null): void => {
    const object = asObject(item, path);
    const kind = kindOf(object, path, listKind);
    if (kind === 'Service') services.push(readService(object, path));
    else if (kind === 'EndpointSlice') endpointSlices.push(readEndpointSlice(object, path));
    else ignoredKinds[kind] = (ignoredKinds[kind] ?? 0) + 1;
  };
  const visitList = (list: JsonObject, path: string): void => {
    const listKind = typeof list.kind === 'string' ? list.kind : null;
    const items = list.items;
    if (items === null) return;
    if (!Array.isArray(items)) throw new FieldError(join(path, 'items'), `expected an array, found ${describe(items)}`);
    items.forEach((item, i) => visit(item, `${join(path, 'items')}[${i}]`, listKind));
  };

  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      const path = `[${i}]`;
      const object = asObject(element, path);
      if ('items' in object) visitList(object, path);
      else visit(object, path, null);
    });
  } else {
    const object = asObject(value, '');
    if ('items' in object) visitList(object, '');
    else if (object.kind === 'Service' || object.kind === 'EndpointSlice') visit(object, '', null);
    else throw new FieldError('', 'expected a List with "items", an array, or a Service or EndpointSlice object');
  }
  return { services, endpointSlices, ignoredKinds };
}

function sourceError(source: string, error: FieldError): LocalUpError {
  return usageError(`${source}: ${error.message}`, INPUT_HINT);
}

function kindOf(object: JsonObject, path: string, listKind: string | null): string {
  if (object.kind !== undefined && object.kind !== null) {
    if (typeof object.kind !== 'string') throw new FieldError(join(path, 'kind'), 'expected a string');
    return object.kind;
  }
  // Lists read straight from the API (ServiceList...) leave out the kind of each item.
  if (listKind !== null && listKind.endsWith('List') && listKind !== 'List') return listKind.slice(0, -'List'.length);
  throw new FieldError(join(path, 'kind'), 'expected a string (Service or EndpointSlice)');
}

// ---- Service ---------------------------------------------------------------

function readService(object: JsonObject, path: string): KubeService {
  const { namespace, name } = readMetadata(object, path);
  const metadata = asObject(object.metadata, join(path, 'metadata'));
  const annotations = optionalObject(metadata, 'annotations', join(path, 'metadata'));
  const specPath = join(path, 'spec');
  const spec = asObject(object.spec, specPath);
  const type = optionalEnum(spec, 'type', specPath, SERVICE_TYPES) ?? 'ClusterIP';
  const clusterIP = serviceIp(optionalString(spec, 'clusterIP', specPath) ?? '', join(specPath, 'clusterIP'));
  const clusterIPs = optionalStringArray(spec, 'clusterIPs', specPath).map((ip, i) => serviceIp(ip, `${join(specPath, 'clusterIPs')}[${i}]`));
  const ipFamilies = optionalArray(spec, 'ipFamilies', specPath).map((family, i) => {
    const familyPath = `${join(specPath, 'ipFamilies')}[${i}]`;
    if (typeof family !== 'string' || !(FAMILIES as readonly string[]).includes(family)) {
      throw new FieldError(familyPath, `expected one of: ${FAMILIES.join(', ')}`);
    }
    return family as IpFamilyName;
  });
  const ports = optionalArray(spec, 'ports', specPath).map((port, i) => readServicePort(port, `${join(specPath, 'ports')}[${i}]`));
  const externalIPs = optionalStringArray(spec, 'externalIPs', specPath).map((ip, i) => ipAddress(ip, `${join(specPath, 'externalIPs')}[${i}]`));
  const sessionAffinity = optionalEnum(spec, 'sessionAffinity', specPath, AFFINITIES) ?? 'None';
  const affinityConfig = optionalObject(spec, 'sessionAffinityConfig', specPath);
  const clientIP = affinityConfig === null ? null : optionalObject(affinityConfig, 'clientIP', join(specPath, 'sessionAffinityConfig'));
  const affinityTimeoutSeconds = clientIP === null
    ? null
    : optionalInteger(clientIP, 'timeoutSeconds', join(specPath, 'sessionAffinityConfig.clientIP'), 0, 2_147_483_647);
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
function readHintsAnnotation(annotations: JsonObject | null, path: string): string | null {
  for (const key of TOPOLOGY_ANNOTATIONS) {
    const value = annotations?.[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new FieldError(`${join(path, 'metadata.annotations')}[${JSON.stringify(key)}]`, 'expected a string');
    return value;
  }
  return null;
}

function readServicePort(value: unknown, path: string): KubeServicePort {
  const port = asObject(value, path);
  return {
    name: optionalString(port, 'name', path) ?? '',
    protocol: optionalEnum(port, 'protocol', path, PROTOCOLS) ?? 'TCP',
    // NOTE: 0 is accepted: kube-proxy programs whatever port it is given (its own unit tests use port 0).
    port: requiredInteger(port, 'port', path, 0, 65535),
    nodePort: optionalInteger(port, 'nodePort', path, 0, 65535) ?? 0,
  };
}

function readIngress(object: JsonObject, path: string): KubeLoadBalancerIngress[] {
  const statusPath = join(path, 'status');
  const status = optionalObject(object, 'status', path);
  if (status === null) return [];
  const loadBalancer = optionalObject(status, 'loadBalancer', statusPath);
  if (loadBalancer === null) return [];
  const lbPath = join(statusPath, 'loadBalancer');
  return optionalArray(loadBalancer, 'ingress', lbPath).map((entry, i) => {
    const entryPath = `${join(lbPath, 'ingress')}[${i}]`;
    const ingress = asObject(entry, entryPath);
    const ip = optionalString(ingress, 'ip', entryPath);
    return {
      ip: ip === null || ip === '' ? null : ipAddress(ip, join(entryPath, 'ip')),
      ipMode: optionalString(ingress, 'ipMode', entryPath),
    };
  });
}

function readTopologyHint(annotations: JsonObject | null, spec: JsonObject, path: string): string | null {
  for (const key of TOPOLOGY_ANNOTATIONS) {
    const value = annotations?.[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new FieldError(`${join(path, 'metadata.annotations')}[${JSON.stringify(key)}]`, 'expected a string');
    if (value !== '' && value.toLowerCase() !== 'disabled') return `${key}=${value}`;
  }
  const distribution = optionalString(spec, 'trafficDistribution', join(path, 'spec'));
  return distribution === null || distribution === '' ? null : `trafficDistribution=${distribution}`;
}

/** ClusterIP fields hold an IP, "None" (headless) or "" (unset). */
function serviceIp(value: string, path: string): string {
  if (value === '' || value === 'None') return value;
  return ipAddress(value, path);
}

// ---- EndpointSlice -----------------------------------------------------------

function readEndpointSlice(object: JsonObject, path: string): KubeEndpointSlice {
  const { namespace, name } = readMetadata(object, path);
  const metadataPath = join(path, 'metadata');
  const labels = optionalObject(asObject(object.metadata, metadataPath), 'labels', metadataPath);
  const label = labels?.[SERVICE_NAME_LABEL];
  if (label !== undefined && label !== null && typeof label !== 'string') {
    throw new FieldError(`${join(metadataPath, 'labels')}[${JSON.stringify(SERVICE_NAME_LABEL)}]`, 'expected a string');
  }
  const addressType = requiredString(object, 'addressType', path);
  const ports = optionalArray(object, 'ports', path).map((port, i) => readEndpointPort(port, `${join(path, 'ports')}[${i}]`));
  const endpoints = optionalArray(object, 'endpoints', path).map((endpoint, i) =>
    readEndpoint(endpoint, `${join(path, 'endpoints')}[${i}]`, addressType),
  );
  return { namespace, name, serviceName: typeof label === 'string' ? label : null, addressType, ports, endpoints };
}

function readEndpointPort(value: unknown, path: string): KubeEndpointPort {
  const port = asObject(value, path);
  return {
    name: optionalString(port, 'name', path),
    port: optionalInteger(port, 'port', path, 0, 65535),
    protocol: optionalEnum(port, 'protocol', path, PROTOCOLS) ?? 'TCP',
  };
}

function readEndpoint(value: unknown, path: string, addressType: string): KubeEndpoint {
  const endpoint = asObject(value, path);
  const ipSlice = addressType === 'IPv4' || addressType === 'IPv6';
  const addresses = requiredStringArray(endpoint, 'addresses', path).map((address, i) =>
    ipSlice ? ipAddress(address, `${join(path, 'addresses')}[${i}]`) : address,
  );
  const conditions = optionalObject(endpoint, 'conditions', path);
  const conditionsPath = join(path, 'conditions');
  const hints = optionalObject(endpoint, 'hints', path);
  const zones = hints === null ? [] : optionalArray(hints, 'forZones', join(path, 'hints'));
  const hintNames = (list: unknown[], field: string): string[] =>
    list.map((hint, i) => requiredString(asObject(hint, `${join(path, `hints.${field}`)}[${i}]`), 'name', `${join(path, `hints.${field}`)}[${i}]`));
  const nodes = hints === null ? [] : optionalArray(hints, 'forNodes', join(path, 'hints'));
  return {
    addresses,
    ready: (conditions === null ? null : optionalBoolean(conditions, 'ready', conditionsPath)) ?? true,
    serving: (conditions === null ? null : optionalBoolean(conditions, 'serving', conditionsPath)) ?? true,
    terminating: (conditions === null ? null : optionalBoolean(conditions, 'terminating', conditionsPath)) ?? false,
    nodeName: optionalString(endpoint, 'nodeName', path),
    hasZoneHints: zones.length > 0,
    zoneHints: hintNames(zones, 'forZones'),
    nodeHints: hintNames(nodes, 'forNodes'),
  };
}

// ---- shared field readers ----------------------------------------------------

function readMetadata(object: JsonObject, path: string): { namespace: string; name: string } {
  const metadataPath = join(path, 'metadata');
  const metadata = asObject(object.metadata, metadataPath);
  return {
    name: requiredString(metadata, 'name', metadataPath),
    // Namespaced objects always carry it in kubectl output; hand-written files may rely on the default.
    namespace: optionalString(metadata, 'namespace', metadataPath) ?? 'default',
  };
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function asObject(value: unknown, path: string): JsonObject {
  if (value === undefined) throw new FieldError(path, 'expected an object (the field is required)');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FieldError(path, `expected an object, found ${describe(value)}`);
  }
  return value as JsonObject;
}

function optionalObject(object: JsonObject, key: string, path: string): JsonObject | null {
  const value = object[key];
  return value === undefined || value === null ? null : asObject(value, join(path, key));
}

function optionalArray(object: JsonObject, key: string, path: string): unknown[] {
  const value = object[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(join(path, key), `expected an array, found ${describe(value)}`);
  return value;
}

function optionalString(object: JsonObject, key: string, path: string): string | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new FieldError(join(path, key), `expected a string, found ${describe(value)}`);
  return value;
}

function requiredString(object: JsonObject, key: string, path: string): string {
  const value = optionalString(object, key, path);
  if (value === null) throw new FieldError(join(path, key), 'expected a string (the field is required)');
  return value;
}

function optionalStringArray(object: JsonObject, key: string, path: string): string[] {
  return optionalArray(object, key, path).map((value, i) => {
    if (typeof value !== 'string') throw new FieldError(`${join(path, key)}[${i}]`, `expected a string, found ${describe(value)}`);
    return value;
  });
}

function requiredStringArray(object: JsonObject, key: string, path: string): string[] {
  if (object[key] === undefined || object[key] === null) throw new FieldError(join(path, key), 'expected an array of strings (the field is required)');
  return optionalStringArray(object, key, path);
}

function optionalBoolean(object: JsonObject, key: string, path: string): boolean | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new FieldError(join(path, key), `expected true or false, found ${describe(value)}`);
  return value;
}

function optionalInteger(object: JsonObject, key: string, path: string, min: number, max: number): number | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw new FieldError(join(path, key), `expected a number, found ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FieldError(join(path, key), `expected a whole number from ${min} to ${max}, found ${value}`);
  }
  return value;
}

function requiredInteger(object: JsonObject, key: string, path: string, min: number, max: number): number {
  const value = optionalInteger(object, key, path, min, max);
  if (value === null) throw new FieldError(join(path, key), 'expected a number (the field is required)');
  return value;
}

function optionalEnum<T extends string>(object: JsonObject, key: string, path: string, values: readonly T[]): T | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new FieldError(join(path, key), `expected one of: ${values.join(', ')}; found ${describe(value)}`);
  }
  return value as T;
}

function ipAddress(value: string, path: string): string {
  if (ipFamilyOf(value) === null) throw new FieldError(path, `expected an IP address, found ${JSON.stringify(value)}`);
  return canonicalAddress(value);
}
