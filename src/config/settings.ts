// The settings table: every knob kube-local-up reads, with its environment
// name, its command-line flag, its default and one line of meaning. README.md
// and .env.example are checked against this table by the tests.
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeVersion } from './kube-version.js';
import type { Parser } from './parsers.js';
import * as p from './parsers.js';

export const PROXY_MODES = ['iptables', 'ipvs', 'nftables'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export const PROVIDERS = ['kind', 'local'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const IP_FAMILIES = ['ipv4', 'ipv6', 'dual'] as const;
export type IpFamilySetting = (typeof IP_FAMILIES)[number];

/** The schedulers the Linux IPVS code ships (net/netfilter/ipvs/ip_vs_<name>.c). */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type IpvsScheduler = (typeof IPVS_SCHEDULERS)[number];

export const LAB_ACCELS = ['auto', 'kvm', 'tcg'] as const;

export type SettingGroup = 'cluster' | 'ipvs' | 'paths' | 'kind' | 'local' | 'tools' | 'lab' | 'smoke';

export interface DefaultContext {
  /** The real environment (for HOME and XDG_* only). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Raw values of the settings resolved before this one. */
  readonly resolved: Readonly<Record<string, string>>;
}

export interface SettingSpec<T> {
  readonly env: string;
  /** Long flag without the dashes. */
  readonly flag: string;
  readonly group: SettingGroup;
  readonly description: string;
  /** The raw default (parsed like any other value). */
  readonly default: string | ((context: DefaultContext) => string);
  /** How the default reads in .env.example and README when it is computed. */
  readonly defaultLabel?: string;
  readonly parse: Parser<T>;
  /** Boolean settings also accept a bare --flag (true) and --no-flag (false). */
  readonly boolean?: boolean;
}

const setting = <T>(spec: SettingSpec<T>): SettingSpec<T> => spec;

function homeOf(env: DefaultContext['env']): string {
  return env.HOME ?? homedir();
}

/** $XDG_CACHE_HOME/kube-local-up/<name> (~/.cache/kube-local-up/<name>): where downloads, builds and the lab kernel are kept. */
function cacheFolder(env: DefaultContext['env'], name: string): string {
  return join(env.XDG_CACHE_HOME ?? join(homeOf(env), '.cache'), 'kube-local-up', name);
}

/** Expands a leading ~ so values from .env files behave like shell values. */
export function expandHome(path: string, env: DefaultContext['env']): string {
  return path === '~' || path.startsWith('~/') ? join(homeOf(env), path.slice(1)) : path;
}

const path = (env: DefaultContext['env']): Parser<string> => (raw) => {
  if (raw.includes('\0')) throw new p.SettingValueError('must be a file system path');
  return expandHome(raw, env);
};

const httpUrl = (example: string): Parser<string> => (raw) => {
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new p.SettingValueError(`must be an http(s) URL such as ${example}`);
  return raw.replace(/\/+$/, '');
};

const ipAddress: Parser<string> = (raw) => {
  if (isIP(raw) === 0) throw new p.SettingValueError('must be an IP address such as 127.0.0.1');
  return raw;
};

const hostName: Parser<string> = (raw) => {
  if (isIP(raw) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(raw)) return raw;
  throw new p.SettingValueError('must be an IP address or a DNS name such as localhost');
};

/** The n-th address of a CIDR ("" when the CIDR does not parse); the provider checks it lies inside. */
function nthServiceAddress(cidrText: string, n: number): string {
  try {
    const { address, family } = p.parseCidr(cidrText);
    if (family === 4) {
      const value = (address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0) + n) % 2 ** 32;
      return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
    }
    const [head = '', rest = ''] = address.split('::');
    const groups = (text: string) => (text === '' ? [] : text.split(':'));
    const known = [...groups(head), ...groups(rest)].length;
    const all = address.includes('::') ? [...groups(head), ...Array<string>(8 - known).fill('0'), ...groups(rest)] : groups(head);
    const value = all.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n) + BigInt(n);
    const out = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
    return out.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  } catch {
    return '';
  }
}

/** Settings in resolution order: a computed default may use settings above it. */
export function settingSpecs(env: DefaultContext['env']) {
  return {
    proxyMode: setting<ProxyMode>({
      env: 'KUBE_PROXY_MODE', flag: 'mode', group: 'cluster', default: 'ipvs',
      description: "kube-proxy's mode: ipvs (this tool's purpose; local-up-cluster.sh leaves it to kube-proxy, whose default is iptables), iptables or nftables",
      parse: p.oneOf(PROXY_MODES),
    }),
    provider: setting<ProviderName>({
      env: 'CLUSTER_PROVIDER', flag: 'provider', group: 'cluster', default: 'kind',
      description: 'how the cluster runs: kind (node containers) or local (host processes on containerd)',
      parse: p.oneOf(PROVIDERS),
    }),
    clusterName: setting<string>({
      env: 'CLUSTER_NAME', flag: 'name', group: 'cluster', default: 'local-up',
      description: 'name of the cluster (the kind cluster name; also names its state folder)',
      parse: p.clusterName,
    }),
    kubeVersion: setting<KubeVersion>({
      env: 'KUBE_VERSION', flag: 'k8s-version', group: 'cluster', default: '1.34.11',
      description: 'Kubernetes version to run and to generate configuration for (default: the newest release kind pins whose IPVS mode is not deprecated)',
      parse: p.kubeVersion,
    }),
    ipFamily: setting<IpFamilySetting>({
      env: 'IP_FAMILY', flag: 'ip-family', group: 'cluster', default: 'ipv4',
      description: 'IP family of the cluster network: ipv4, ipv6 or dual',
      parse: p.oneOf(IP_FAMILIES),
    }),
    serviceCidr: setting<string>({
      env: 'SERVICE_CLUSTER_IP_RANGE', flag: 'service-cidr', group: 'cluster',
      // kind's defaults (pkg/internal/apis/config/default.go): 10.96.0.0/16, and fd00:10:96::/112 for ipv6.
      default: ({ resolved }) => (resolved.IP_FAMILY === 'ipv6' ? 'fd00:10:96::/112' : '10.96.0.0/16'),
      defaultLabel: '10.96.0.0/16 (IP_FAMILY=ipv6: fd00:10:96::/112)',
      description: 'Service ClusterIP range, at most 20 host bits as kubeadm requires (local-up-cluster.sh uses 10.0.0.0/24; kind 10.96.0.0/16)',
      parse: p.serviceRange,
    }),
    clusterCidr: setting<string>({
      env: 'CLUSTER_CIDR', flag: 'cluster-cidr', group: 'cluster',
      default: ({ resolved }) => (resolved.IP_FAMILY === 'ipv6' ? 'fd00:10:244::/56' : '10.244.0.0/16'),
      defaultLabel: '10.244.0.0/16 (IP_FAMILY=ipv6: fd00:10:244::/56)',
      description: "Pod network range, apart from the Service range; kube-proxy's clusterCIDR",
      parse: p.networkCidr,
    }),
    featureGates: setting<Record<string, boolean>>({
      env: 'FEATURE_GATES', flag: 'feature-gates', group: 'cluster', default: '',
      description: 'extra Kubernetes feature gates, Name=true,Other=false (passed to every component)',
      parse: p.featureGates,
    }),
    readyTimeout: setting<number>({
      env: 'READY_TIMEOUT', flag: 'ready-timeout', group: 'cluster', default: '300',
      description: 'seconds up waits for kube-proxy on every node and for cluster DNS before it gives up',
      parse: p.integer(1, 86400),
    }),
    kubectlTimeout: setting<number>({
      env: 'KUBECTL_TIMEOUT', flag: 'kubectl-timeout', group: 'cluster', default: '30',
      description: 'seconds one kubectl call (get, apply, logs, exec, delete) may take before it counts as failed; raise it on a slow or emulated machine',
      parse: p.integer(1, 3600),
    }),
    scheduler: setting<IpvsScheduler>({
      env: 'IPVS_SCHEDULER', flag: 'scheduler', group: 'ipvs', default: 'rr',
      description: 'IPVS scheduler kube-proxy programs (its kernel module ip_vs_<name> must exist)',
      parse: p.oneOf(IPVS_SCHEDULERS),
    }),
    strictArp: setting<boolean>({
      env: 'IPVS_STRICT_ARP', flag: 'strict-arp', group: 'ipvs', default: 'false', boolean: true,
      description: 'set arp_ignore=1/arp_announce=2 so nodes do not answer ARP for kube-ipvs0 addresses (MetalLB L2)',
      parse: p.bool,
    }),
    ipvsSyncPeriod: setting<string>({
      env: 'IPVS_SYNC_PERIOD', flag: 'ipvs-sync-period', group: 'ipvs', default: '',
      description: "kube-proxy's ipvs.syncPeriod (empty: kube-proxy's default, 30s)",
      parse: (raw) => (raw === '' ? '' : p.duration(raw)),
    }),
    ipvsMinSyncPeriod: setting<string>({
      env: 'IPVS_MIN_SYNC_PERIOD', flag: 'ipvs-min-sync-period', group: 'ipvs', default: '',
      description: "kube-proxy's ipvs.minSyncPeriod (empty: kube-proxy's default)",
      parse: (raw) => (raw === '' ? '' : p.duration(raw)),
    }),
    ipvsTcpTimeout: setting<string>({
      env: 'IPVS_TCP_TIMEOUT', flag: 'ipvs-tcp-timeout', group: 'ipvs', default: '',
      description: 'idle timeout of IPVS TCP connections (empty or 0s: keep the kernel value, 900s)',
      parse: (raw) => (raw === '' ? '' : p.duration(raw)),
    }),
    ipvsTcpFinTimeout: setting<string>({
      env: 'IPVS_TCPFIN_TIMEOUT', flag: 'ipvs-tcpfin-timeout', group: 'ipvs', default: '',
      description: 'IPVS timeout after a TCP FIN (empty or 0s: keep the kernel value, 120s)',
      parse: (raw) => (raw === '' ? '' : p.duration(raw)),
    }),
    ipvsUdpTimeout: setting<string>({
      env: 'IPVS_UDP_TIMEOUT', flag: 'ipvs-udp-timeout', group: 'ipvs', default: '',
      description: 'IPVS timeout of UDP flows (empty or 0s: keep the kernel value, 300s)',
      parse: (raw) => (raw === '' ? '' : p.duration(raw)),
    }),
    excludeCidrs: setting<string[]>({
      env: 'IPVS_EXCLUDE_CIDRS', flag: 'exclude-cidrs', group: 'ipvs', default: '',
      description: 'comma-separated CIDRs kube-proxy must not touch when it cleans up IPVS (ipvs.excludeCIDRs)',
      parse: p.cidrList,
    }),
    nodePortAddresses: setting<string[]>({
      env: 'NODEPORT_ADDRESSES', flag: 'nodeport-addresses', group: 'ipvs', default: '',
      description: 'comma-separated CIDRs whose node addresses serve NodePorts, or primary (the Node object\'s InternalIP per family, kube-proxy 1.31+, alone before 1.37); from kube-proxy 1.37 also localhost and all, each once, with CIDRs; empty: all node addresses',
      parse: p.nodePortAddressList,
    }),
    stateDir: setting<string>({
      env: 'STATE_DIR', flag: 'state-dir', group: 'paths',
      default: ({ env }) => join(env.XDG_STATE_HOME ?? join(homeOf(env), '.local', 'state'), 'kube-local-up'),
      defaultLabel: '$XDG_STATE_HOME/kube-local-up (~/.local/state/kube-local-up)',
      description: 'where kube-local-up keeps what it created: state files, kubeconfigs, generated configs',
      parse: path(env),
    }),
    hostRoot: setting<string>({
      env: 'HOST_ROOT', flag: 'host-root', group: 'paths', default: '/',
      description: "where this machine's kernel files (/proc, /sys, /boot, /lib/modules) are read; /host when kube-local-up runs in a container with the host's root mounted there",
      parse: path(env),
    }),
    logDir: setting<string>({
      env: 'LOG_DIR', flag: 'log-dir', group: 'paths',
      default: ({ resolved }) => join(resolved.STATE_DIR ?? '', resolved.CLUSTER_NAME ?? '', 'logs'),
      defaultLabel: '$STATE_DIR/$CLUSTER_NAME/logs',
      description: 'where logs are kept (component logs, collected cluster logs)',
      parse: path(env),
    }),
    kubeconfigOut: setting<string>({
      env: 'KUBECONFIG_OUT', flag: 'kubeconfig-out', group: 'paths',
      default: ({ resolved }) => join(resolved.STATE_DIR ?? '', resolved.CLUSTER_NAME ?? '', 'kubeconfig'),
      defaultLabel: '$STATE_DIR/$CLUSTER_NAME/kubeconfig',
      description: 'where up writes the new cluster\'s kubeconfig (never your ~/.kube/config unless you point it there)',
      parse: path(env),
    }),
    kindWorkers: setting<number>({
      env: 'KIND_WORKERS', flag: 'workers', group: 'kind', default: '0',
      description: 'number of kind worker nodes besides the control plane',
      parse: p.integer(0, 10),
    }),
    kindNodeImage: setting<string>({
      env: 'KIND_NODE_IMAGE', flag: 'node-image', group: 'kind', default: '',
      description: "kind node image (empty: the image pinned by digest for KUBE_VERSION from kind's release notes)",
      parse: (raw) => {
        if (/\s/.test(raw)) throw new p.SettingValueError('must be an image reference such as kindest/node:v1.34.11@sha256:<digest>');
        return raw;
      },
    }),
    kindBinary: setting<string>({
      env: 'KIND', flag: 'kind-binary', group: 'kind', default: '',
      description: 'the kind executable to use (empty: kind on PATH, else the managed copy in TOOLS_DIR)',
      parse: path(env),
    }),
    kindAutoInstall: setting<boolean>({
      env: 'KIND_AUTO_INSTALL', flag: 'kind-auto-install', group: 'kind', default: 'true', boolean: true,
      description: 'when no kind is found, up downloads the pinned kind release into TOOLS_DIR (checksum verified) and says so',
      parse: p.bool,
    }),
    kindDownloadBase: setting<string>({
      env: 'KIND_DOWNLOAD_BASE', flag: 'kind-download-base', group: 'kind', default: 'https://github.com/kubernetes-sigs/kind/releases/download',
      description: 'where kind releases are downloaded from (<base>/<version>/kind-<os>-<arch>); point it at a mirror if needed',
      parse: (raw) => {
        if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new p.SettingValueError('must be an http(s) URL such as https://github.com/kubernetes-sigs/kind/releases/download');
        return raw.replace(/\/+$/, '');
      },
    }),
    toolsDir: setting<string>({
      env: 'TOOLS_DIR', flag: 'tools-dir', group: 'kind',
      default: ({ env }) => cacheFolder(env, 'bin'),
      defaultLabel: '$XDG_CACHE_HOME/kube-local-up/bin (~/.cache/kube-local-up/bin)',
      description: 'where `local-up tools install` keeps tools: kind-<version>, kubernetes-<version>/bin, etcd-<version>/bin, kind-source-<version>/bin',
      parse: path(env),
    }),
    kubeDownloadBase: setting<string>({
      env: 'KUBE_DOWNLOAD_BASE', flag: 'kube-download-base', group: 'tools', default: 'https://dl.k8s.io',
      description: 'where `tools install kubernetes` downloads release archives (<base>/v<version>/kubernetes-server-linux-<arch>.tar.gz and its .sha512; cluster/get-kube-binaries.sh\'s KUBERNETES_RELEASE_URL); a mirror works',
      parse: httpUrl('https://dl.k8s.io'),
    }),
    etcdDownloadBase: setting<string>({
      env: 'ETCD_DOWNLOAD_BASE', flag: 'etcd-download-base', group: 'tools', default: 'https://github.com/etcd-io/etcd/releases/download',
      description: 'where `tools install etcd` downloads release archives (<base>/v<version>/etcd-v<version>-linux-<arch>.tar.gz and SHA256SUMS)',
      parse: httpUrl('https://github.com/etcd-io/etcd/releases/download'),
    }),
    goBinary: setting<string>({
      env: 'GO', flag: 'go', group: 'tools', default: '',
      description: 'the go command for `tools install --from-source` (empty: go on PATH, else /usr/local/go/bin/go)',
      parse: path(env),
    }),
    goCacheDir: setting<string>({
      env: 'GO_CACHE_DIR', flag: 'go-cache-dir', group: 'tools',
      default: ({ env }) => cacheFolder(env, 'go'),
      defaultLabel: '$XDG_CACHE_HOME/kube-local-up/go (~/.cache/kube-local-up/go)',
      description: 'Go caches of `tools install --from-source` (GOCACHE=<dir>/build, GOMODCACHE=<dir>/mod; several GB after a Kubernetes build; a second build reuses them)',
      parse: path(env),
    }),
    kubeRoot: setting<string>({
      env: 'KUBE_ROOT', flag: 'kube-root', group: 'local', default: '',
      description: "a Kubernetes checkout; binaries come from its _output/bin, _output/dockerized/bin/<os>/<arch> or _output/local/bin/<os>/<arch> (local-up-cluster.sh's search)",
      parse: path(env),
    }),
    kubeBinDir: setting<string>({
      env: 'KUBE_BIN_DIR', flag: 'kube-bin-dir', group: 'local', default: '',
      description: "a folder of prebuilt kube-* binaries, searched before KUBE_ROOT and PATH (like local-up-cluster.sh -o)",
      parse: path(env),
    }),
    etcdMinVersion: setting<string>({
      env: 'ETCD_VERSION', flag: 'etcd-min-version', group: 'local', default: '',
      defaultLabel: "(empty: KUBE_ROOT's hack/lib/etcd.sh, else 3.6.10)",
      description: 'oldest etcd accepted, as local-up-cluster.sh reads ETCD_VERSION (Debian 12 ships 3.4.23: set 3.4 to use it)',
      parse: (raw) => {
        if (raw !== '' && !/^v?\d+\.\d+(\.\d+)?$/.test(raw)) throw new p.SettingValueError('must be an etcd version such as 3.6.10 (or empty)');
        return raw.replace(/^v/, '');
      },
    }),
    imagesDir: setting<string>({
      env: 'IMAGES_DIR', flag: 'images-dir', group: 'tools',
      default: ({ env }) => cacheFolder(env, 'images'),
      defaultLabel: '$XDG_CACHE_HOME/kube-local-up/images (~/.cache/kube-local-up/images)',
      description: 'where `local-up tools images` keeps the OCI archives it builds (pause, CoreDNS, agnhost); put your own <name>_<tag>.oci.tar there to import it instead of a build',
      parse: path(env),
    }),
    ctrBinary: setting<string>({
      env: 'CTR', flag: 'ctr', group: 'tools', default: 'ctr',
      description: "containerd's ctr, which `tools images --import` runs to import the archives",
      parse: path(env),
    }),
    containerRuntimeEndpoint: setting<string>({
      env: 'CONTAINER_RUNTIME_ENDPOINT', flag: 'container-runtime-endpoint', group: 'local', default: 'unix:///run/containerd/containerd.sock',
      description: "the CRI socket the kubelet uses (containerd's by default)",
      parse: (raw) => {
        if (!/^unix:\/\/\/[^\0]+$/.test(raw)) throw new p.SettingValueError('must be a unix socket URL such as unix:///run/containerd/containerd.sock');
        return raw;
      },
    }),
    apiHost: setting<string>({
      env: 'API_HOST', flag: 'api-host', group: 'local', default: 'localhost',
      description: 'host name or IP in the kubeconfigs\' server URL (https://API_HOST:API_SECURE_PORT); also a SAN of the API server certificate',
      parse: hostName,
    }),
    apiHostIp: setting<string>({
      env: 'API_HOST_IP', flag: 'api-host-ip', group: 'local', default: '127.0.0.1',
      description: 'IP where readiness checks reach the API server; when not 127.0.0.1 it is also the advertise address (as in local-up-cluster.sh)',
      parse: ipAddress,
    }),
    apiSecurePort: setting<number>({
      env: 'API_SECURE_PORT', flag: 'api-secure-port', group: 'local', default: '6443',
      description: "kube-apiserver's secure port (the kubernetes Service's real servers use it)",
      parse: p.integer(1, 65535),
    }),
    apiBindAddress: setting<string>({
      env: 'API_BIND_ADDR', flag: 'api-bind-address', group: 'local', default: '0.0.0.0',
      description: "kube-apiserver's --bind-address",
      parse: ipAddress,
    }),
    advertiseAddress: setting<string>({
      env: 'ADVERTISE_ADDRESS', flag: 'advertise-address', group: 'local', default: '',
      description: "kube-apiserver's --advertise-address (empty: API_HOST_IP unless it is 127.0.0.1, else the API server's own choice)",
      parse: (raw) => (raw === '' ? '' : ipAddress(raw)),
    }),
    hostnameOverride: setting<string>({
      env: 'HOSTNAME_OVERRIDE', flag: 'hostname-override', group: 'local', default: '127.0.0.1',
      description: "the node name: kubelet's and kube-proxy's hostnameOverride and the kubelet certificate's CN system:node:<name>",
      parse: hostName,
    }),
    certDir: setting<string>({
      env: 'CERT_DIR', flag: 'cert-dir', group: 'local',
      default: ({ resolved }) => join(resolved.STATE_DIR ?? '', resolved.CLUSTER_NAME ?? '', 'pki'),
      defaultLabel: '$STATE_DIR/$CLUSTER_NAME/pki',
      description: 'where the CA, certificates, keys and component kubeconfigs are written (local-up-cluster.sh uses /var/run/kubernetes)',
      parse: path(env),
    }),
    reuseCerts: setting<boolean>({
      env: 'REUSE_CERTS', flag: 'reuse-certs', group: 'local', default: 'false', boolean: true,
      description: 'keep the certificates in CERT_DIR when they still chain to its CA, match the settings and are not about to expire',
      parse: p.bool,
    }),
    etcdHost: setting<string>({
      env: 'ETCD_HOST', flag: 'etcd-host', group: 'local', default: '127.0.0.1',
      description: 'address etcd listens on (client and peer URLs)',
      parse: ipAddress,
    }),
    etcdPort: setting<number>({
      env: 'ETCD_PORT', flag: 'etcd-port', group: 'local', default: '2379',
      description: "etcd's client port",
      parse: p.integer(1, 65535),
    }),
    etcdPeerPort: setting<number>({
      env: 'ETCD_PEER_PORT', flag: 'etcd-peer-port', group: 'local', default: '2380',
      description: "etcd's peer port (local-up-cluster.sh leaves etcd's default 2380)",
      parse: p.integer(1, 65535),
    }),
    etcdDir: setting<string>({
      env: 'ETCD_DIR', flag: 'etcd-dir', group: 'local',
      default: ({ resolved }) => join(resolved.STATE_DIR ?? '', resolved.CLUSTER_NAME ?? '', 'etcd'),
      defaultLabel: '$STATE_DIR/$CLUSTER_NAME/etcd',
      description: "etcd's data folder; removed by down unless PRESERVE_ETCD",
      parse: path(env),
    }),
    preserveEtcd: setting<boolean>({
      env: 'PRESERVE_ETCD', flag: 'preserve-etcd', group: 'local', default: 'false', boolean: true,
      description: "keep etcd's data folder when the cluster stops (pair it with REUSE_CERTS so service account tokens stay valid)",
      parse: p.bool,
    }),
    kubeletPort: setting<number>({
      env: 'KUBELET_PORT', flag: 'kubelet-port', group: 'local', default: '10250',
      description: "the kubelet's API port",
      parse: p.integer(1, 65535),
    }),
    kubeletHealthzPort: setting<number>({
      env: 'KUBELET_HEALTHZ_PORT', flag: 'kubelet-healthz-port', group: 'local', default: '10248',
      description: "the kubelet's /healthz port on 127.0.0.1",
      parse: p.integer(1, 65535),
    }),
    controllerManagerPort: setting<number>({
      env: 'KUBE_CONTROLLER_MANAGER_PORT', flag: 'controller-manager-port', group: 'local', default: '10257',
      description: "kube-controller-manager's secure port (/healthz) on 127.0.0.1",
      parse: p.integer(1, 65535),
    }),
    schedulerPort: setting<number>({
      env: 'KUBE_SCHEDULER_PORT', flag: 'scheduler-port', group: 'local', default: '10259',
      description: "kube-scheduler's secure port (/healthz) on 127.0.0.1",
      parse: p.integer(1, 65535),
    }),
    kubeProxyHealthzPort: setting<number>({
      env: 'KUBE_PROXY_HEALTHZ_PORT', flag: 'kube-proxy-healthz-port', group: 'local', default: '10256',
      description: "kube-proxy's /healthz port (healthzBindAddress 0.0.0.0:<port>)",
      parse: p.integer(1, 65535),
    }),
    kubeProxyMetricsPort: setting<number>({
      env: 'KUBE_PROXY_METRICS_PORT', flag: 'kube-proxy-metrics-port', group: 'local', default: '10249',
      description: "kube-proxy's metrics port, which serves /proxyMode (metricsBindAddress 127.0.0.1:<port>)",
      parse: p.integer(1, 65535),
    }),
    dnsServerIp: setting<string>({
      env: 'KUBE_DNS_SERVER_IP', flag: 'dns-server-ip', group: 'local',
      default: ({ resolved }) => nthServiceAddress(resolved.SERVICE_CLUSTER_IP_RANGE ?? '', 10),
      defaultLabel: 'the 10th address of SERVICE_CLUSTER_IP_RANGE (10.96.0.10)',
      description: 'ClusterIP of the kube-dns Service and the kubelet\'s clusterDNS',
      parse: (raw) => (raw === '' ? '' : ipAddress(raw)),
    }),
    dnsDomain: setting<string>({
      env: 'KUBE_DNS_NAME', flag: 'dns-domain', group: 'local', default: 'cluster.local',
      description: 'the cluster DNS domain (kubelet clusterDomain, CoreDNS zone)',
      parse: hostName,
    }),
    enableClusterDns: setting<boolean>({
      env: 'KUBE_ENABLE_CLUSTER_DNS', flag: 'cluster-dns', group: 'local', default: 'true', boolean: true,
      description: 'deploy CoreDNS (it needs its image from a registry, or already in containerd)',
      parse: p.bool,
    }),
    corednsImage: setting<string>({
      env: 'COREDNS_IMAGE', flag: 'coredns-image', group: 'local', default: 'registry.k8s.io/coredns/coredns:v1.12.1',
      description: "CoreDNS image (default: kubeadm's pin for Kubernetes 1.34)",
      parse: (raw) => {
        if (raw === '' || /\s/.test(raw)) throw new p.SettingValueError('must be an image reference such as registry.k8s.io/coredns/coredns:v1.12.1');
        return raw;
      },
    }),
    cniConfigDir: setting<string>({
      env: 'CNI_CONFIG_DIR', flag: 'cni-config-dir', group: 'local', default: '/etc/cni/net.d',
      description: "containerd's CNI config folder; a bridge conflist over CLUSTER_CIDR is written there when it holds none",
      parse: path(env),
    }),
    cniBinDir: setting<string>({
      env: 'CNI_BIN_DIR', flag: 'cni-bin-dir', group: 'local', default: '/opt/cni/bin',
      description: "containerd's CNI plugin folder (bridge, host-local, loopback, portmap must be there)",
      parse: path(env),
    }),
    cgroupDriver: setting<string>({
      env: 'CGROUP_DRIVER', flag: 'cgroup-driver', group: 'local', default: '',
      description: "the kubelet's cgroupDriver: cgroupfs or systemd, matching containerd's SystemdCgroup (empty: the kubelet's default)",
      parse: (raw) => (raw === '' ? '' : p.oneOf(['cgroupfs', 'systemd'] as const)(raw)),
    }),
    kubeLogLevel: setting<number>({
      env: 'KUBE_LOG_LEVEL', flag: 'log-level', group: 'local', default: '3',
      description: "--v of every component (local-up-cluster.sh's LOG_LEVEL)",
      parse: p.integer(0, 10),
    }),
    labCacheDir: setting<string>({
      env: 'LAB_CACHE_DIR', flag: 'lab-cache-dir', group: 'lab',
      default: ({ env }) => cacheFolder(env, 'lab'),
      defaultLabel: '$XDG_CACHE_HOME/kube-local-up/lab (~/.cache/kube-local-up/lab)',
      description: 'where lab prepare keeps the unpacked Debian kernel and initramfs',
      parse: path(env),
    }),
    labMemory: setting<number>({
      env: 'LAB_MEMORY_MB', flag: 'lab-memory', group: 'lab', default: '1024',
      description: 'memory of the lab VM in MiB',
      parse: p.integer(256, 65536),
    }),
    labCpus: setting<number>({
      env: 'LAB_CPUS', flag: 'lab-cpus', group: 'lab', default: '2',
      description: 'virtual CPUs of the lab VM',
      parse: p.integer(1, 64),
    }),
    labTimeout: setting<number>({
      env: 'LAB_TIMEOUT', flag: 'lab-timeout', group: 'lab', default: '600',
      description: 'seconds a lab run may take, boot included, before the VM is killed',
      parse: p.integer(5, 86400),
    }),
    labAccel: setting<(typeof LAB_ACCELS)[number]>({
      env: 'LAB_ACCEL', flag: 'lab-accel', group: 'lab', default: 'auto',
      description: 'lab CPU: kvm, tcg (software emulation) or auto (KVM when /dev/kvm works, else tcg)',
      parse: p.oneOf(LAB_ACCELS),
    }),
    smokeImage: setting<string>({
      env: 'SMOKE_IMAGE', flag: 'smoke-image', group: 'smoke', default: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
      description: "image of smoke's backends and client; it must run agnhost's netexec (HTTP /hostname and /dial, UDP \"hostname\") and carry curl, dig and cat",
      parse: (raw) => {
        if (raw === '' || /\s/.test(raw)) throw new p.SettingValueError('must be an image reference such as registry.k8s.io/e2e-test-images/agnhost:2.53');
        return raw;
      },
    }),
    smokeRequests: setting<number>({
      env: 'SMOKE_REQUESTS', flag: 'smoke-requests', group: 'smoke', default: '30',
      description: 'requests smoke sends through the ClusterIP to judge how they spread over its 3 backends',
      parse: p.integer(6, 1000),
    }),
    smokeReadyTimeout: setting<number>({
      env: 'SMOKE_READY_TIMEOUT', flag: 'smoke-ready-timeout', group: 'smoke', default: '180',
      description: "seconds smoke waits for its backends and client pod to run (image pull included) and for their EndpointSlices",
      parse: p.integer(1, 3600),
    }),
    smokeSyncTimeout: setting<number>({
      env: 'SMOKE_SYNC_TIMEOUT', flag: 'smoke-sync-timeout', group: 'smoke', default: '60',
      description: "seconds kube-proxy gets to apply a change (smoke's new Services, backends removed by scaling to 1) before the check fails",
      parse: p.integer(1, 3600),
    }),
  };
}

export type SettingSpecs = ReturnType<typeof settingSpecs>;
export type SettingKey = keyof SettingSpecs;
export type Settings = { readonly [K in SettingKey]: SettingSpecs[K] extends SettingSpec<infer T> ? T : never };
