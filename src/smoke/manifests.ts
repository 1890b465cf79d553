// What `local-up smoke` creates, as plain typed objects (pure): its own
// namespace, a Deployment of 3 backends that answer with their pod name over
// TCP (HTTP /hostname) and UDP ("hostname"), a client pod, and one Service of
// each shape whose IPVS state and traffic the checks look at.
import { randomBytes } from 'node:crypto';

/** Labels that make leftovers findable: `kubectl get ns -l app.kubernetes.io/part-of=local-up-smoke`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-local-up';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF_VALUE = 'local-up-smoke';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const NAMESPACE_PREFIX = 'local-up-smoke-';

export const BACKEND_DEPLOYMENT = 'backend';
export const BACKEND_APP = 'smoke-backend';
export const CLIENT_POD = 'client';
export const CLIENT_APP = 'smoke-client';
export const BACKEND_REPLICAS = 3;
/** netexec's defaults: HTTP (and /dial) on 8080, UDP on 8081. */
export const HTTP_PORT = 8080;
export const UDP_PORT = 8081;
/** The port every TCP smoke Service exposes. */
export const SERVICE_PORT = 80;
/** ClientIP affinity timeout: short, so a second run is not stuck on the first one's backend for 3 hours (the API default). */
export const AFFINITY_TIMEOUT_SECONDS = 60;
/** Backends stop quickly when scaled down; the removal check does not wait for a long grace period. */
const TERMINATION_GRACE_SECONDS = 5;
const READINESS_PERIOD_SECONDS = 2;
/**
 * The kubelet's defaults (1 s timeout, 3 failures) take a starved backend out of its Service: in the
 * lab, with the VM sharing two emulated cores, 2 of 3 backends went not-ready and smoke's setup
 * failed. 5 s and 5 failures (10 s of failing) keep a slow but answering backend in.
 */
const READINESS_TIMEOUT_SECONDS = 5;
const READINESS_FAILURE_THRESHOLD = 5;
/** An unprivileged user: netexec listens above 1024 and writes nothing unless /upload is used. */
const NOBODY = 65534;

/** The smoke Services by role. */
export const SMOKE_SERVICES = {
  clusterIP: 'clusterip',
  affinity: 'affinity',
  nodePort: 'nodeport',
  udp: 'udp',
  headless: 'headless',
} as const;

/** "local-up-smoke-<6 hex>": a DNS label, unique per run. */
export function smokeNamespaceName(suffix: string = randomBytes(3).toString('hex')): string {
  if (!/^[a-z0-9]{1,20}$/.test(suffix)) throw new Error(`bad namespace suffix: ${suffix}`);
  return `${NAMESPACE_PREFIX}${suffix}`;
}

export type Labels = Readonly<Record<string, string>>;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Labels;
}

export interface NamespaceManifest {
  readonly apiVersion: 'v1';
  readonly kind: 'Namespace';
  readonly metadata: ObjectMeta;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly imagePullPolicy: 'IfNotPresent';
  readonly args: readonly string[];
  readonly ports: readonly { readonly name: string; readonly containerPort: number; readonly protocol: 'TCP' | 'UDP' }[];
  readonly readinessProbe: {
    readonly httpGet: { readonly path: string; readonly port: number };
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
  };
  readonly securityContext: Readonly<Record<string, unknown>>;
}

export interface PodSpec {
  readonly terminationGracePeriodSeconds: number;
  readonly securityContext: Readonly<Record<string, unknown>>;
  readonly containers: readonly ContainerSpec[];
  readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
}

export interface PodManifest {
  readonly apiVersion: 'v1';
  readonly kind: 'Pod';
  readonly metadata: ObjectMeta;
  readonly spec: PodSpec;
}

export interface DeploymentManifest {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'Deployment';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas: number;
    readonly selector: { readonly matchLabels: Labels };
    readonly template: { readonly metadata: { readonly labels: Labels }; readonly spec: PodSpec };
  };
}

export interface ServicePortSpec {
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
  readonly targetPort: number;
}

export interface ServiceManifest {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type: 'ClusterIP' | 'NodePort';
    readonly clusterIP?: 'None';
    readonly selector: Labels;
    readonly ports: readonly ServicePortSpec[];
    readonly sessionAffinity?: 'ClientIP';
    readonly sessionAffinityConfig?: { readonly clientIP: { readonly timeoutSeconds: number } };
  };
}

export type WorkloadManifest = DeploymentManifest | PodManifest | ServiceManifest;

export interface SmokeManifests {
  readonly namespace: NamespaceManifest;
  /** Everything inside the namespace, applied as one List. */
  readonly workloads: { readonly apiVersion: 'v1'; readonly kind: 'List'; readonly items: readonly WorkloadManifest[] };
}

const commonLabels = (name: string): Labels => ({ [NAME_LABEL]: name, [PART_OF_LABEL]: PART_OF_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE });
export const backendSelector: Labels = { [NAME_LABEL]: BACKEND_APP };
/** The label selector (kubectl -l) of the backend pods. */
export const BACKEND_SELECTOR = `${NAME_LABEL}=${BACKEND_APP}`;

// Restricted pod security: smoke runs in clusters that enforce it too.
const restrictedPod = { runAsNonRoot: true, runAsUser: NOBODY, runAsGroup: NOBODY, seccompProfile: { type: 'RuntimeDefault' } };
const restrictedContainer = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

function netexecContainer(name: string, image: string): ContainerSpec {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    args: ['netexec', `--http-port=${HTTP_PORT}`, `--udp-port=${UDP_PORT}`],
    ports: [
      { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
      { name: 'udp', containerPort: UDP_PORT, protocol: 'UDP' },
    ],
    // netexec's /healthz turns 200 once its UDP server listens.
    readinessProbe: { httpGet: { path: '/healthz', port: HTTP_PORT }, periodSeconds: READINESS_PERIOD_SECONDS, timeoutSeconds: READINESS_TIMEOUT_SECONDS, failureThreshold: READINESS_FAILURE_THRESHOLD },
    securityContext: restrictedContainer,
  };
}

function service(namespace: string, name: string, spec: Omit<ServiceManifest['spec'], 'selector'>): ServiceManifest {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: commonLabels('smoke-service') }, spec: { ...spec, selector: backendSelector } };
}

const httpPort: ServicePortSpec = { name: 'http', protocol: 'TCP', port: SERVICE_PORT, targetPort: HTTP_PORT };

/** Every object smoke creates, for namespace `namespace` and the backends' image. */
export function smokeManifests(namespace: string, image: string): SmokeManifests {
  const backendLabels = commonLabels(BACKEND_APP);
  const deployment: DeploymentManifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: BACKEND_DEPLOYMENT, namespace, labels: backendLabels },
    spec: {
      replicas: BACKEND_REPLICAS,
      selector: { matchLabels: backendSelector },
      template: {
        metadata: { labels: backendLabels },
        spec: {
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          securityContext: restrictedPod,
          containers: [netexecContainer('netexec', image)],
          // Spread over nodes when there are several, so traffic crosses nodes; never blocks scheduling.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: backendSelector } }],
        },
      },
    },
  };
  const client: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: CLIENT_POD, namespace, labels: commonLabels(CLIENT_APP) },
    // The client serves netexec too: its /dial endpoint sends the probes (one new connection per try).
    spec: { terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS, securityContext: restrictedPod, containers: [netexecContainer('client', image)] },
  };
  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [PART_OF_LABEL]: PART_OF_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } },
    workloads: {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        deployment,
        client,
        service(namespace, SMOKE_SERVICES.clusterIP, { type: 'ClusterIP', ports: [httpPort] }),
        service(namespace, SMOKE_SERVICES.affinity, {
          type: 'ClusterIP',
          ports: [httpPort],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: AFFINITY_TIMEOUT_SECONDS } },
        }),
        service(namespace, SMOKE_SERVICES.nodePort, { type: 'NodePort', ports: [httpPort] }),
        service(namespace, SMOKE_SERVICES.udp, { type: 'ClusterIP', ports: [{ name: 'udp', protocol: 'UDP', port: UDP_PORT, targetPort: UDP_PORT }] }),
        service(namespace, SMOKE_SERVICES.headless, { type: 'ClusterIP', clusterIP: 'None', ports: [httpPort] }),
      ],
    },
  };
}
