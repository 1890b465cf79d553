// The settings table: every knob kube-local-up reads, with its environment
// name, its command-line flag, its default and one line of meaning. README.md
// and .env.example are checked against this table by the tests.
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

export type SettingGroup = 'cluster' | 'ipvs' | 'paths' | 'kind' | 'lab';

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

/** Expands a leading ~ so values from .env files behave like shell values. */
export function expandHome(path: string, env: DefaultContext['env']): string {
  return path === '~' || path.startsWith('~/') ? join(homeOf(env), path.slice(1)) : path;
}

const path = (env: DefaultContext['env']): Parser<string> => (raw) => {
  if (raw.includes('\0')) throw new p.SettingValueError('must be a file system path');
  return expandHome(raw, env);
};

/** Settings in resolution order: a computed default may use settings above it. */
export function settingSpecs(env: DefaultContext['env']) {
  return {
    proxyMode: setting<ProxyMode>({
      env: 'KUBE_PROXY_MODE', flag: 'mode', group: 'cluster', default: 'iptables',
      description: "kube-proxy's mode: iptables (kube-proxy's own default, as in local-up-cluster.sh), ipvs or nftables",
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
      env: 'SERVICE_CLUSTER_IP_RANGE', flag: 'service-cidr', group: 'cluster', default: '10.96.0.0/16',
      description: 'Service ClusterIP range (local-up-cluster.sh uses 10.0.0.0/24; kind and kubeadm 10.96.0.0/16)',
      parse: p.cidr,
    }),
    clusterCidr: setting<string>({
      env: 'CLUSTER_CIDR', flag: 'cluster-cidr', group: 'cluster', default: '10.244.0.0/16',
      description: "Pod network range; kube-proxy's clusterCIDR",
      parse: p.cidr,
    }),
    featureGates: setting<Record<string, boolean>>({
      env: 'FEATURE_GATES', flag: 'feature-gates', group: 'cluster', default: '',
      description: 'extra Kubernetes feature gates, Name=true,Other=false (passed to every component)',
      parse: p.featureGates,
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
      description: 'comma-separated CIDRs whose node addresses serve NodePorts (empty: all node addresses)',
      parse: p.cidrList,
    }),
    stateDir: setting<string>({
      env: 'STATE_DIR', flag: 'state-dir', group: 'paths',
      default: ({ env }) => join(env.XDG_STATE_HOME ?? join(homeOf(env), '.local', 'state'), 'kube-local-up'),
      defaultLabel: '$XDG_STATE_HOME/kube-local-up (~/.local/state/kube-local-up)',
      description: 'where kube-local-up keeps what it created: state files, kubeconfigs, generated configs',
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
    labCacheDir: setting<string>({
      env: 'LAB_CACHE_DIR', flag: 'lab-cache-dir', group: 'lab',
      default: ({ env }) => join(env.XDG_CACHE_HOME ?? join(homeOf(env), '.cache'), 'kube-local-up', 'lab'),
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
  };
}

export type SettingSpecs = ReturnType<typeof settingSpecs>;
export type SettingKey = keyof SettingSpecs;
export type Settings = { readonly [K in SettingKey]: SettingSpecs[K] extends SettingSpec<infer T> ? T : never };
