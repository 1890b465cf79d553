// The CoreDNS add-on for the local cluster, written here (the script copies
// cluster/addons/dns/coredns from the checkout; a KUBE_BIN_DIR-only user has
// none). The objects follow kubeadm's CoreDNS add-on: ServiceAccount, RBAC,
// Corefile ConfigMap, Deployment and the kube-dns Service on KUBE_DNS_SERVER_IP
// with ports 53/UDP, 53/TCP and 9153/TCP. Pure.
import YAML from 'yaml';

export const DNS_NAMESPACE = 'kube-system';
export const COREDNS_DEPLOYMENT = 'coredns';
export const DNS_SERVICE = 'kube-dns';
/** The ports of the kube-dns Service, as kube-proxy programs them. */
export const DNS_SERVICE_PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  { name: 'metrics', port: 9153, protocol: 'TCP' },
] as const;

export interface CorednsInput {
  readonly image: string;
  readonly dnsServerIp: string;
  readonly dnsDomain: string;
}

export function renderCorefile(dnsDomain: string): string {
  return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${dnsDomain} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
}

export function corednsObjects(input: CorednsInput): unknown[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const ns = DNS_NAMESPACE;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: ns }, data: { Corefile: renderCorefile(input.dnsDomain) } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: COREDNS_DEPLOYMENT, namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            // The host's resolver, not the cluster's own: CoreDNS forwards to it.
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image: input.image,
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: DNS_SERVICE, namespace: ns, labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        selector: labels,
        clusterIP: input.dnsServerIp,
        ports: DNS_SERVICE_PORTS.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.port })),
      },
    },
  ];
}

export function renderCorednsManifest(input: CorednsInput): string {
  return corednsObjects(input)
    .map((doc) => YAML.stringify(doc, { lineWidth: 0 }))
    .join('---\n');
}
