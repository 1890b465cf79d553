// kube-proxy command-line flags equivalent to a planned configuration, per
// version. Some settings have no working flag in some releases (the metrics
// address before 1.13); those come back as gaps for the caller to decide on.
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';
import type { ProxyMode } from '../config/settings.js';
import { reached, since } from './versions.js';

/** Settings already checked against the version, in the shape kube-proxy takes them. */
export interface ResolvedKubeProxySettings {
  readonly mode: ProxyMode;
  readonly clusterCidr?: string;
  readonly hostnameOverride?: string;
  readonly kubeconfig?: string;
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly metricsBindAddress?: string;
  readonly healthzBindAddress?: string;
  readonly nodePortAddresses?: readonly string[];
  readonly conntrack?: {
    readonly maxPerCore?: number;
    readonly min?: number;
    readonly tcpEstablishedTimeout?: string;
    readonly tcpCloseWaitTimeout?: string;
  };
  readonly ipvs?: {
    readonly scheduler?: string;
    readonly syncPeriod?: string;
    readonly minSyncPeriod?: string;
    readonly strictArp?: boolean;
    readonly excludeCidrs?: readonly string[];
    readonly tcpTimeout?: string;
    readonly tcpFinTimeout?: string;
    readonly udpTimeout?: string;
  };
}

export interface KubeProxyFlags {
  readonly flags: string[];
  /** Settings this version's flags cannot carry (only its config file can). */
  readonly gaps: string[];
}

/** "Name=true,Other=false", the form --feature-gates and pre-1.10 config files take. */
export function featureGatesText(gates: Readonly<Record<string, boolean>>): string {
  return Object.entries(gates).map(([name, on]) => `${name}=${on}`).join(',');
}

/** Splits "127.0.0.1:10249" or "[::1]:10249" into the IP and the port. */
export function splitHostPort(address: string): { host: string; port: string } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: address.slice(colon + 1) };
}

export function renderKubeProxyFlags(s: ResolvedKubeProxySettings, version: KubeVersion): KubeProxyFlags {
  const v = formatKubeVersion(version);
  const flags: string[] = [`--proxy-mode=${s.mode}`];
  const gaps: string[] = [];
  const add = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) flags.push(`--${name}=${value}`);
  };

  add('cluster-cidr', s.clusterCidr);
  add('hostname-override', s.hostnameOverride);
  add('kubeconfig', s.kubeconfig);
  if (Object.keys(s.featureGates).length > 0) add('feature-gates', featureGatesText(s.featureGates));

  if (s.metricsBindAddress !== undefined) {
    const { host, port } = splitHostPort(s.metricsBindAddress);
    if (reached(version, 'bindAddressFlagsTakePort')) {
      add('metrics-bind-address', s.metricsBindAddress);
    } else if (reached(version, 'metricsPortFlag')) {
      add('metrics-bind-address', host);
      add('metrics-port', port);
    } else if (reached(version, 'kubeProxyMetricsServer')) {
      gaps.push(`metrics address ${s.metricsBindAddress}: kube-proxy ${v} cannot set it with flags (--metrics-bind-address takes an IP, validation wants IP:port; fixed in ${since('metricsPortFlag')}); use the config file`);
    } else {
      gaps.push(`metrics address ${s.metricsBindAddress}: kube-proxy ${v} serves metrics on the healthz address (a separate metrics server arrived in ${since('kubeProxyMetricsServer')})`);
    }
  }
  if (s.healthzBindAddress !== undefined) {
    if (reached(version, 'bindAddressFlagsTakePort')) {
      add('healthz-bind-address', s.healthzBindAddress);
    } else {
      const { host, port } = splitHostPort(s.healthzBindAddress);
      add('healthz-bind-address', host);
      add('healthz-port', port);
    }
  }
  if (s.nodePortAddresses !== undefined && s.nodePortAddresses.length > 0) add('nodeport-addresses', s.nodePortAddresses.join(','));

  const c = s.conntrack;
  if (c !== undefined) {
    add('conntrack-max-per-core', c.maxPerCore);
    add('conntrack-min', c.min);
    add('conntrack-tcp-timeout-established', c.tcpEstablishedTimeout);
    add('conntrack-tcp-timeout-close-wait', c.tcpCloseWaitTimeout);
  }

  const i = s.ipvs;
  if (i !== undefined) {
    add('ipvs-scheduler', i.scheduler);
    add('ipvs-sync-period', i.syncPeriod);
    add('ipvs-min-sync-period', i.minSyncPeriod);
    if (i.excludeCidrs !== undefined && i.excludeCidrs.length > 0) add('ipvs-exclude-cidrs', i.excludeCidrs.join(','));
    if (i.strictArp === true) add('ipvs-strict-arp', 'true');
    add('ipvs-tcp-timeout', i.tcpTimeout);
    add('ipvs-tcpfin-timeout', i.tcpFinTimeout);
    add('ipvs-udp-timeout', i.udpTimeout);
  }
  return { flags, gaps };
}
