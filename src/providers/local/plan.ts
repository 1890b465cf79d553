// The local cluster as data: every component's full command line, the config
// files it reads, its log file and how its readiness is judged, in start order.
// Pure: `up --dry-run` prints exactly what `up` runs. Flags follow
// hack/local-up-cluster.sh (anchors-local-up.md §1) with the gaps closed:
// kube-proxy gets clusterCIDR, the ipvs block and health/metrics addresses.
import { join } from 'node:path';
import YAML from 'yaml';
import { formatKubeVersion } from '../../config/kube-version.js';
import type { KubeVersion } from '../../config/kube-version.js';
import type { Settings } from '../../config/settings.js';
import { usageError } from '../../errors.js';
import { hostPort } from '../../ipvs/model.js';
import { cidrContains, toCidr } from '../../kube/ip.js';
import { featureGatesText } from '../../kubeproxy/flags.js';
import type { KubeProxyPlan } from '../../kubeproxy/config.js';
import { planKubeProxyConfig } from '../../kubeproxy/config.js';
import { renderYamlDocuments } from '../../kubeproxy/render.js';
import { ipvsTuningOf } from '../../kubeproxy/validate.js';
import { reached, since } from '../../kubeproxy/versions.js';
import type { LocalBinary } from './binaries.js';
import { renderCorednsManifest } from './coredns.js';
import { renderKubeconfig, serverUrl } from './kubeconfig.js';
import type { PkiPlan } from './pki.js';
import { caCertPath, caKeyPath, certPath, keyPath, planPki, serviceAccountKeyPath, serviceAccountPubPath } from './pki.js';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** local-up-cluster.sh's default admission plugins (ENABLE_ADMISSION_PLUGINS). */
const ADMISSION_PLUGINS = 'NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,Priority,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,NodeRestriction';
/** Like local-up-cluster.sh: a kube-proxy on your host leaves the host's conntrack sysctls as they are. */
const LEAVE_HOST_CONNTRACK = { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' } as const;
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc';

/** How a component's readiness is judged. */
export interface HttpProbe {
  readonly url: string;
  /** PEM CA file to verify the server with (https only). */
  readonly caFile?: string;
  /** etcd-health: body {"health":"true"}; ok: body "ok"; status-200: any 200. */
  readonly expect: 'etcd-health' | 'ok' | 'status-200';
}

export interface ComponentPlan {
  readonly name: ComponentName;
  /** The full command line, binary first (before sudo is added for root components). */
  readonly argv: readonly string[];
  /** Needs root (kubelet, kube-proxy): started through `sudo -n` when this user is not root. */
  readonly root: boolean;
  readonly logFile: string;
  readonly health: HttpProbe;
  /** The ports it listens on, each with the setting that chose it (for preflight). */
  readonly ports: readonly { readonly port: number; readonly host: string; readonly setting: string }[];
  /** Variables removed from its environment (kube-local-up's own settings it would misread). */
  readonly unsetEnv: readonly string[];
}

/**
 * etcd reads every ETCD_<FLAG> variable as a flag: ETCD_VERSION=3.4 (kube-local-up's, like
 * local-up-cluster.sh's) makes it exit with "invalid value ... for ETCD_VERSION". Our ETCD_*
 * settings are not for etcd, so they are taken out of its environment.
 */
export const ETCD_SETTING_VARIABLES = ['ETCD_VERSION', 'ETCD_HOST', 'ETCD_PORT', 'ETCD_PEER_PORT', 'ETCD_DIR'] as const;

/** A component's environment: the CLI's, minus what it must not see. */
export function componentEnv(env: Readonly<Record<string, string | undefined>>, component: Pick<ComponentPlan, 'unsetEnv'>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of component.unsetEnv) delete out[name];
  return out;
}

export interface ConfigFile {
  readonly path: string;
  readonly content: string;
  /** 0600 for files that name private keys' owners or hold embedded keys. */
  readonly mode: number;
}

export interface LocalLayout {
  readonly clusterDir: string;
  /** Generated component configs (local-up-cluster.sh's TMP_DIR). */
  readonly configDir: string;
  readonly certDir: string;
  readonly etcdDir: string;
  readonly logDir: string;
  readonly kubeconfigOut: string;
  /** The admin kubeconfig in CERT_DIR (paths to the certificates). */
  readonly adminKubeconfig: string;
}

export interface LocalPlan {
  readonly layout: LocalLayout;
  /** The Kubernetes version configuration is written for (the binaries'). */
  readonly version: string;
  readonly nodeName: string;
  readonly firstServiceIp: string;
  readonly dnsServerIp: string;
  /** API server address as the kubernetes Service's real server: null when the API server picks it. */
  readonly advertiseAddress: string | null;
  readonly pki: PkiPlan;
  /** Written before start: kubeconfigs, kubelet.yaml, kube-scheduler.yaml, kube-proxy.yaml, coredns.yaml. */
  readonly files: readonly ConfigFile[];
  /** Start order. */
  readonly components: readonly ComponentPlan[];
  readonly kubeProxy: {
    readonly configFile: string;
    readonly mode: string;
    /** `kube-proxy --cleanup` with the same config (run as root by down). */
    readonly cleanupArgv: readonly string[];
    readonly healthzUrl: string;
    readonly proxyModeUrl: string;
    readonly metricsPort: number;
  };
  /** The CoreDNS manifest file, or null with KUBE_ENABLE_CLUSTER_DNS=false. */
  readonly corednsManifest: string | null;
  /** RBAC the API server needs to reach kubelets (kubectl logs/exec): applied after it is healthy. */
  readonly bootstrapManifest: string;
  readonly warnings: readonly string[];
}

export interface LocalPlanInput {
  readonly settings: Settings;
  readonly version: KubeVersion;
  readonly binaries: Readonly<Record<LocalBinary, string>>;
  /** STATE_DIR/CLUSTER_NAME. */
  readonly clusterDir: string;
  /**
   * The resolv.conf pods with dnsPolicy Default get (CoreDNS forwards to it). Like kubeadm:
   * systemd-resolved's upstream file when it exists, since its 127.0.0.53 stub would make CoreDNS loop.
   */
  readonly resolvConf: string;
  /** This host mounts cgroup v1 (not cgroup2fs at /sys/fs/cgroup): kubelets from 1.35 refuse it unless told. */
  readonly hostCgroupV1?: boolean;
}

export function planLayout(settings: Settings, clusterDir: string): LocalLayout {
  return {
    clusterDir,
    configDir: join(clusterDir, 'config'),
    certDir: settings.certDir,
    etcdDir: settings.etcdDir,
    logDir: settings.logDir,
    kubeconfigOut: settings.kubeconfigOut,
    adminKubeconfig: join(settings.certDir, 'admin.kubeconfig'),
  };
}

/** The n-th address after a CIDR's network address (IPv4). */
function ipv4At(cidr: string, n: number): string {
  const { network } = toCidr(cidr);
  const value = Number(network) + n;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

const isIpLiteral = (text: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(text) || text.includes(':');

/** Settings the local provider cannot run with: one usage error naming each setting. */
export function validateLocalSettings(s: Settings): void {
  const errors: string[] = [];
  if (s.ipFamily !== 'ipv4') errors.push(`IP_FAMILY=${s.ipFamily}: the local provider runs IPv4 clusters only; use IP_FAMILY=ipv4 or the kind provider`);
  const service = toCidr(s.serviceCidr);
  if (service.family !== 4) errors.push(`SERVICE_CLUSTER_IP_RANGE=${s.serviceCidr} must be an IPv4 range for the local provider`);
  if (toCidr(s.clusterCidr).family !== 4) errors.push(`CLUSTER_CIDR=${s.clusterCidr} must be an IPv4 range for the local provider`);
  if (service.family === 4) {
    if (service.prefix > 28) errors.push(`SERVICE_CLUSTER_IP_RANGE=${s.serviceCidr} is too small: the API server needs room for the kubernetes and kube-dns Services (use /28 or larger)`);
    const first = ipv4At(s.serviceCidr, 1);
    if (s.dnsServerIp === '') errors.push('KUBE_DNS_SERVER_IP is empty; set it to an address inside SERVICE_CLUSTER_IP_RANGE');
    else if (!cidrContains(service, s.dnsServerIp)) errors.push(`KUBE_DNS_SERVER_IP=${s.dnsServerIp} is outside SERVICE_CLUSTER_IP_RANGE=${s.serviceCidr}`);
    else if (s.dnsServerIp === first) errors.push(`KUBE_DNS_SERVER_IP=${s.dnsServerIp} is the first service address, which the kubernetes Service takes`);
  }
  const ports: [string, number][] = [
    ['ETCD_PORT', s.etcdPort],
    ['ETCD_PEER_PORT', s.etcdPeerPort],
    ['API_SECURE_PORT', s.apiSecurePort],
    ['KUBE_CONTROLLER_MANAGER_PORT', s.controllerManagerPort],
    ['KUBE_SCHEDULER_PORT', s.schedulerPort],
    ['KUBELET_PORT', s.kubeletPort],
    ['KUBELET_HEALTHZ_PORT', s.kubeletHealthzPort],
    ['KUBE_PROXY_HEALTHZ_PORT', s.kubeProxyHealthzPort],
    ['KUBE_PROXY_METRICS_PORT', s.kubeProxyMetricsPort],
  ];
  const byPort = new Map<number, string[]>();
  for (const [name, port] of ports) byPort.set(port, [...(byPort.get(port) ?? []), name]);
  for (const [port, names] of byPort) if (names.length > 1) errors.push(`${names.join(' and ')} are all ${port}; each component needs its own port`);
  if (errors.length > 0) {
    throw usageError(errors.length === 1 ? `local provider: ${errors[0] as string}` : `the local provider cannot run these settings:\n  - ${errors.join('\n  - ')}`, '`local-up config show` lists every setting and where its value came from');
  }
}

const gatesFlag = (gates: Readonly<Record<string, boolean>>): string[] => (Object.keys(gates).length === 0 ? [] : [`--feature-gates=${featureGatesText(gates)}`]);
const yaml = (doc: unknown): string => YAML.stringify(doc, { lineWidth: 0 });

/** The whole local cluster for these settings and binaries. Throws a usage error for settings it cannot run. */
export function planLocalCluster(input: LocalPlanInput): LocalPlan {
  const s = input.settings;
  validateLocalSettings(s);
  const layout = planLayout(s, input.clusterDir);
  const { certDir, configDir, logDir } = layout;
  const v = `--v=${s.kubeLogLevel}`;
  const firstServiceIp = ipv4At(s.serviceCidr, 1);
  const nodeName = s.hostnameOverride;
  // local-up-cluster.sh: API_HOST_IP other than 127.0.0.1 is the advertise address; ADVERTISE_ADDRESS wins.
  const advertiseAddress = s.advertiseAddress !== '' ? s.advertiseAddress : s.apiHostIp !== '127.0.0.1' ? s.apiHostIp : null;
  const pki = planPki({
    certDir,
    clusterName: s.clusterName,
    nodeName,
    apiHost: s.apiHost,
    apiHostIp: s.apiHostIp,
    advertiseAddress: advertiseAddress ?? '',
    firstServiceIp,
    dnsDomain: s.dnsDomain,
  });
  const crt = (id: string) => certPath(certDir, id);
  const key = (id: string) => keyPath(certDir, id);
  const ca = caCertPath(certDir);
  const server = serverUrl(s.apiHost, s.apiSecurePort);
  const kubeconfigPath = (name: string) => join(certDir, `${name}.kubeconfig`);
  const files: ConfigFile[] = [];
  const kubeconfigFor = (name: string, certId: string) => {
    files.push({
      path: kubeconfigPath(name),
      content: renderKubeconfig({ server, clusterName: s.clusterName, userName: name, credentials: { kind: 'paths', ca, cert: crt(certId), key: key(certId) } }),
      mode: 0o600,
    });
    return kubeconfigPath(name);
  };
  kubeconfigFor('admin', 'client-admin');
  const controllerKubeconfig = kubeconfigFor('controller', 'client-controller');
  const schedulerKubeconfig = kubeconfigFor('scheduler', 'client-scheduler');
  const kubeletKubeconfig = kubeconfigFor('kubelet', 'client-kubelet');
  const kubeProxyKubeconfig = kubeconfigFor('kube-proxy', 'client-kube-proxy');
  const gates = s.featureGates;
  const log = (name: ComponentName) => join(logDir, `${name}.log`);
  const bin = input.binaries;
  const components: ComponentPlan[] = [];

  const etcdClient = `http://${hostPort(s.etcdHost, s.etcdPort)}`;
  const etcdPeer = `http://${hostPort(s.etcdHost, s.etcdPeerPort)}`;
  components.push({
    name: 'etcd',
    argv: [
      bin.etcd,
      '--name=default',
      `--data-dir=${layout.etcdDir}`,
      `--listen-client-urls=${etcdClient}`,
      `--advertise-client-urls=${etcdClient}`,
      `--listen-peer-urls=${etcdPeer}`,
      `--initial-advertise-peer-urls=${etcdPeer}`,
      `--initial-cluster=default=${etcdPeer}`,
      '--log-level=warn',
    ],
    root: false,
    unsetEnv: ETCD_SETTING_VARIABLES,
    logFile: log('etcd'),
    health: { url: `${etcdClient}/health`, expect: 'etcd-health' },
    ports: [
      { port: s.etcdPort, host: s.etcdHost, setting: 'ETCD_PORT' },
      { port: s.etcdPeerPort, host: s.etcdHost, setting: 'ETCD_PEER_PORT' },
    ],
  });

  components.push({
    name: 'kube-apiserver',
    argv: [
      bin['kube-apiserver'],
      v,
      '--authorization-mode=Node,RBAC',
      ...(advertiseAddress === null ? [] : [`--advertise-address=${advertiseAddress}`]),
      `--bind-address=${s.apiBindAddress}`,
      `--secure-port=${s.apiSecurePort}`,
      `--tls-cert-file=${crt('serving-kube-apiserver')}`,
      `--tls-private-key-file=${key('serving-kube-apiserver')}`,
      `--client-ca-file=${ca}`,
      `--kubelet-client-certificate=${crt('client-kube-apiserver')}`,
      `--kubelet-client-key=${key('client-kube-apiserver')}`,
      // The default order starts with Hostname, which a host may resolve to 127.0.1.1 (Debian's /etc/hosts).
      '--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP',
      `--service-account-key-file=${serviceAccountPubPath(certDir)}`,
      `--service-account-signing-key-file=${serviceAccountKeyPath(certDir)}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--etcd-servers=${etcdClient}`,
      `--service-cluster-ip-range=${s.serviceCidr}`,
      `--enable-admission-plugins=${ADMISSION_PLUGINS}`,
      ...gatesFlag(gates),
    ],
    root: false,
    unsetEnv: [],
    logFile: log('kube-apiserver'),
    health: { url: `https://${hostPort(s.apiHostIp, s.apiSecurePort)}/healthz`, caFile: ca, expect: 'ok' },
    ports: [{ port: s.apiSecurePort, host: s.apiBindAddress, setting: 'API_SECURE_PORT' }],
  });

  components.push({
    name: 'kube-controller-manager',
    argv: [
      bin['kube-controller-manager'],
      v,
      `--kubeconfig=${controllerKubeconfig}`,
      `--authentication-kubeconfig=${controllerKubeconfig}`,
      `--authorization-kubeconfig=${controllerKubeconfig}`,
      `--service-account-private-key-file=${serviceAccountKeyPath(certDir)}`,
      `--root-ca-file=${ca}`,
      `--cluster-signing-cert-file=${ca}`,
      `--cluster-signing-key-file=${caKeyPath(certDir)}`,
      `--service-cluster-ip-range=${s.serviceCidr}`,
      `--cluster-cidr=${s.clusterCidr}`,
      '--use-service-account-credentials',
      '--controllers=*',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${s.controllerManagerPort}`,
      `--tls-cert-file=${crt('serving-kube-controller-manager')}`,
      `--tls-private-key-file=${key('serving-kube-controller-manager')}`,
      ...gatesFlag(gates),
    ],
    root: false,
    unsetEnv: [],
    logFile: log('kube-controller-manager'),
    health: { url: `https://127.0.0.1:${s.controllerManagerPort}/healthz`, caFile: ca, expect: 'ok' },
    ports: [{ port: s.controllerManagerPort, host: '127.0.0.1', setting: 'KUBE_CONTROLLER_MANAGER_PORT' }],
  });

  const schedulerConfig = join(configDir, 'kube-scheduler.yaml');
  files.push({
    path: schedulerConfig,
    content: yaml({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: schedulerKubeconfig },
      leaderElection: { leaderElect: false },
    }),
    mode: 0o644,
  });
  components.push({
    name: 'kube-scheduler',
    argv: [
      bin['kube-scheduler'],
      v,
      `--config=${schedulerConfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${s.schedulerPort}`,
      `--tls-cert-file=${crt('serving-kube-scheduler')}`,
      `--tls-private-key-file=${key('serving-kube-scheduler')}`,
      ...gatesFlag(gates),
    ],
    root: false,
    unsetEnv: [],
    logFile: log('kube-scheduler'),
    health: { url: `https://127.0.0.1:${s.schedulerPort}/healthz`, caFile: ca, expect: 'ok' },
    ports: [{ port: s.schedulerPort, host: '127.0.0.1', setting: 'KUBE_SCHEDULER_PORT' }],
  });

  const kubeletConfig = join(configDir, 'kubelet.yaml');
  // A development machine on cgroup v1 still gets a cluster, with a warning (kubelets from 1.35 refuse it by default).
  const allowCgroupV1 = input.hostCgroupV1 === true && reached(input.version, 'kubeletFailsOnCgroupV1');
  const cgroupWarnings = allowCgroupV1 ? [`this host uses cgroup v1, which the kubelet refuses by default since ${since('kubeletFailsOnCgroupV1')}; kubelet.yaml sets failCgroupV1: false so a local cluster still starts (cgroup v1 support is going away: move the host to cgroup v2)`] : [];
  // The API server reaches the kubelet (exec, logs, port-forward) at the Node's address it
  // prefers (--kubelet-preferred-address-types, InternalIP first below). A node named by an IP
  // (the default, like local-up-cluster.sh's HOSTNAME_OVERRIDE=127.0.0.1) has that IP as its
  // InternalIP and Hostname, so the kubelet listens there only. A node named by a host name gets
  // the host's default-route address as InternalIP (the kubelet skips loopback results of the
  // name's lookup), which is not known here, so the kubelet listens on every address, as kubeadm's
  // does (anonymous requests refused, every request authorized by the API server). Listening on
  // 127.0.0.1 there broke every `kubectl exec` in the lab: the API server dialed the Hostname
  // address "lab", which Debian's /etc/hosts maps to 127.0.1.1 (connection refused).
  const kubeletAddress = isIpLiteral(nodeName) ? nodeName : '0.0.0.0';
  files.push({
    path: kubeletConfig,
    content: yaml({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: kubeletAddress,
      port: s.kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: s.kubeletHealthzPort,
      containerRuntimeEndpoint: s.containerRuntimeEndpoint,
      ...(s.cgroupDriver === '' ? {} : { cgroupDriver: s.cgroupDriver }),
      // Like local-up-cluster.sh: dev machines often run with swap on.
      failSwapOn: false,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: ca } },
      authorization: { mode: 'Webhook' },
      // Without cluster DNS the script points pods at 8.8.8.8; so do we.
      clusterDNS: [s.enableClusterDns ? s.dnsServerIp : '8.8.8.8'],
      clusterDomain: s.dnsDomain,
      resolvConf: input.resolvConf,
      ...(allowCgroupV1 ? { failCgroupV1: false } : {}),
      ...(Object.keys(gates).length === 0 ? {} : { featureGates: { ...gates } }),
    }),
    mode: 0o644,
  });
  components.push({
    name: 'kubelet',
    argv: [bin.kubelet, v, `--hostname-override=${nodeName}`, `--kubeconfig=${kubeletKubeconfig}`, `--config=${kubeletConfig}`],
    root: true,
    unsetEnv: [],
    logFile: log('kubelet'),
    health: { url: `http://127.0.0.1:${s.kubeletHealthzPort}/healthz`, expect: 'ok' },
    ports: [
      { port: s.kubeletPort, host: kubeletAddress, setting: 'KUBELET_PORT' },
      { port: s.kubeletHealthzPort, host: '127.0.0.1', setting: 'KUBELET_HEALTHZ_PORT' },
    ],
  });

  const kubeProxy: KubeProxyPlan = planKubeProxyConfig({
    version: input.version,
    mode: s.proxyMode,
    featureGates: gates,
    clusterCidr: s.clusterCidr,
    hostnameOverride: nodeName,
    kubeconfig: kubeProxyKubeconfig,
    metricsBindAddress: `127.0.0.1:${s.kubeProxyMetricsPort}`,
    healthzBindAddress: `0.0.0.0:${s.kubeProxyHealthzPort}`,
    nodePortAddresses: s.nodePortAddresses,
    ipvs: ipvsTuningOf(s),
    conntrack: LEAVE_HOST_CONNTRACK,
  });
  if (kubeProxy.document === null) throw usageError(`kube-proxy ${formatKubeVersion(input.version)} has no config file; the local provider needs a newer release`);
  const kubeProxyConfig = join(configDir, 'kube-proxy.yaml');
  files.push({ path: kubeProxyConfig, content: renderYamlDocuments([kubeProxy.document]), mode: 0o644 });
  const kubeProxyHealthz = `http://127.0.0.1:${s.kubeProxyHealthzPort}/healthz`;
  components.push({
    name: 'kube-proxy',
    argv: [bin['kube-proxy'], v, `--config=${kubeProxyConfig}`],
    root: true,
    unsetEnv: [],
    logFile: log('kube-proxy'),
    health: { url: kubeProxyHealthz, expect: 'status-200' },
    ports: [
      { port: s.kubeProxyHealthzPort, host: '0.0.0.0', setting: 'KUBE_PROXY_HEALTHZ_PORT' },
      { port: s.kubeProxyMetricsPort, host: '127.0.0.1', setting: 'KUBE_PROXY_METRICS_PORT' },
    ],
  });

  let corednsManifest: string | null = null;
  if (s.enableClusterDns) {
    corednsManifest = join(configDir, 'coredns.yaml');
    files.push({ path: corednsManifest, content: renderCorednsManifest({ image: s.corednsImage, dnsServerIp: s.dnsServerIp, dnsDomain: s.dnsDomain }), mode: 0o644 });
  }
  const bootstrapManifest = join(configDir, 'bootstrap-rbac.yaml');
  files.push({ path: bootstrapManifest, content: renderBootstrapRbac(), mode: 0o644 });

  return {
    layout,
    version: formatKubeVersion(input.version),
    nodeName,
    firstServiceIp,
    dnsServerIp: s.dnsServerIp,
    advertiseAddress,
    pki,
    files,
    components,
    kubeProxy: {
      configFile: kubeProxyConfig,
      mode: s.proxyMode,
      cleanupArgv: [bin['kube-proxy'], v, `--config=${kubeProxyConfig}`, '--cleanup'],
      healthzUrl: kubeProxyHealthz,
      proxyModeUrl: `http://127.0.0.1:${s.kubeProxyMetricsPort}/proxyMode`,
      metricsPort: s.kubeProxyMetricsPort,
    },
    corednsManifest,
    bootstrapManifest,
    warnings: [...kubeProxy.warnings, ...cgroupWarnings],
  };
}

/**
 * The binding local-up-cluster.sh creates right after the API server is up: the API server's
 * kubelet client (CN kube-apiserver) may use the kubelet API (logs, exec, port-forward).
 */
export function renderBootstrapRbac(): string {
  return yaml({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kube-apiserver-kubelet-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver' }],
  });
}
