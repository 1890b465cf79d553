// Plans kube-proxy's configuration for one Kubernetes version: the
// KubeProxyConfiguration document, the equivalent flags and the warnings.
// A field the version does not know is never emitted; a setting the version
// cannot honour is an error naming the setting and the release that added it.
import { isIP } from 'node:net';
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';
import { NODEPORT_ADDRESSES_ALL, NODEPORT_ADDRESSES_LOCALHOST, NODEPORT_ADDRESSES_PRIMARY } from '../config/parsers.js';
import type { ProxyMode } from '../config/settings.js';
import { usageError } from '../errors.js';
import type { ResolvedKubeProxySettings } from './flags.js';
import { featureGatesText, renderKubeProxyFlags } from './flags.js';
import type { IpvsTuning } from './validate.js';
import { isSetDuration, validateIpvsTuning, validateProxyModeForVersion } from './validate.js';
import { BOUNDARIES, reached, since } from './versions.js';

export type { IpvsTuning } from './validate.js';

export const KUBE_PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
/** The group kube-proxy's config lived in before 1.9 (PR #53645). */
export const KUBE_PROXY_LEGACY_API_VERSION = 'componentconfig/v1alpha1';

/** conntrack tuning; 0 and "0s" mean "leave the host's value" (kube-proxy's own convention). */
export interface ConntrackTuning {
  readonly maxPerCore?: number;
  readonly min?: number;
  readonly tcpEstablishedTimeout?: string;
  readonly tcpCloseWaitTimeout?: string;
}

export interface KubeProxyConfigInput {
  readonly version: KubeVersion;
  readonly mode: ProxyMode;
  /** The user's FEATURE_GATES; gates the mode needs are added. */
  readonly featureGates?: Readonly<Record<string, boolean>>;
  readonly clusterCidr?: string;
  readonly hostnameOverride?: string;
  /** clientConnection.kubeconfig / --kubeconfig. */
  readonly kubeconfig?: string;
  /** IP:port, e.g. 127.0.0.1:10249 or [::1]:10249. */
  readonly metricsBindAddress?: string;
  readonly healthzBindAddress?: string;
  readonly nodePortAddresses?: readonly string[];
  readonly ipvs?: IpvsTuning;
  readonly conntrack?: ConntrackTuning;
  /** The caller runs kube-proxy with flags: a setting without a flag in this version is an error. */
  readonly flagsRequired?: boolean;
}

export interface KubeProxyIpvsConfiguration {
  scheduler?: string;
  syncPeriod?: string;
  minSyncPeriod?: string;
  strictARP?: boolean;
  excludeCIDRs?: string[];
  tcpTimeout?: string;
  tcpFinTimeout?: string;
  udpTimeout?: string;
}

export interface KubeProxyConntrackConfiguration {
  maxPerCore?: number;
  min?: number;
  tcpEstablishedTimeout?: string;
  tcpCloseWaitTimeout?: string;
}

/** The fields kube-local-up writes, in the order it writes them. */
export interface KubeProxyConfiguration {
  apiVersion: string;
  kind: 'KubeProxyConfiguration';
  mode: ProxyMode;
  clusterCIDR?: string;
  hostnameOverride?: string;
  clientConnection?: { kubeconfig: string };
  /** A string "Name=true" before 1.10, a map after. */
  featureGates?: string | Record<string, boolean>;
  metricsBindAddress?: string;
  healthzBindAddress?: string;
  nodePortAddresses?: string[];
  conntrack?: KubeProxyConntrackConfiguration;
  ipvs?: KubeProxyIpvsConfiguration;
}

export interface KubeProxyPlan {
  /** null before 1.7: kube-proxy had no config file, only flags. */
  readonly document: KubeProxyConfiguration | null;
  readonly flags: string[];
  /** Settings the flags of this version cannot carry (the document does). */
  readonly flagGaps: string[];
  readonly warnings: string[];
  /** The feature gates kube-proxy gets (the user's plus the ones the mode needs). */
  readonly featureGates: Record<string, boolean>;
}

/** Plans kube-proxy's config and flags; throws a usage error listing every setting the version cannot honour. */
export function planKubeProxyConfig(input: KubeProxyConfigInput): KubeProxyPlan {
  const { version, mode } = input;
  const v = formatKubeVersion(version);
  const modeCheck = validateProxyModeForVersion(mode, version, input.featureGates ?? {});
  const tuning = validateIpvsTuning(input.ipvs ?? {}, mode, version);
  const errors = [...modeCheck.errors, ...tuning.errors];
  const warnings = [...modeCheck.warnings, ...tuning.warnings];
  if (reached(version, 'newestKnown') && version.minor > BOUNDARIES.newestKnown.minor) {
    warnings.push(`Kubernetes ${v} is newer than ${since('newestKnown')}, the newest release kube-local-up knows; the configuration follows ${since('newestKnown')}'s rules`);
  }

  for (const [label, value] of [['--metrics-bind-address', input.metricsBindAddress], ['--healthz-bind-address', input.healthzBindAddress]] as const) {
    if (value !== undefined && !isHostPort(value)) errors.push(`${label} ${value} must be IP:port, such as 127.0.0.1:10249 or [::1]:10249`);
  }
  if (input.nodePortAddresses !== undefined && input.nodePortAddresses.length > 0 && !reached(version, 'nodePortAddresses')) {
    errors.push(`NODEPORT_ADDRESSES (--nodeport-addresses) needs kube-proxy ${since('nodePortAddresses')} (nodePortAddresses); KUBE_VERSION=${v}: set KUBE_VERSION to ${since('nodePortAddresses')} or later, or leave NODEPORT_ADDRESSES empty`);
  }
  const npa = input.nodePortAddresses ?? [];
  if (npa.includes(NODEPORT_ADDRESSES_PRIMARY) && !reached(version, 'nodePortAddressesPrimary')) {
    errors.push(`NODEPORT_ADDRESSES=${NODEPORT_ADDRESSES_PRIMARY} needs kube-proxy ${since('nodePortAddressesPrimary')}; kube-proxy ${v} accepts only CIDRs (it refuses to start with "${NODEPORT_ADDRESSES_PRIMARY}"): give the node's address as a CIDR, or set KUBE_VERSION to ${since('nodePortAddressesPrimary')} or later`);
  } else if (!reached(version, 'nodePortAddressesKeywords')) {
    const newer = npa.filter((a) => a === NODEPORT_ADDRESSES_LOCALHOST || a === NODEPORT_ADDRESSES_ALL);
    if (newer.length > 0) {
      errors.push(`NODEPORT_ADDRESSES keyword${newer.length > 1 ? 's' : ''} ${newer.map((k) => `"${k}"`).join(', ')} need${newer.length > 1 ? '' : 's'} kube-proxy ${since('nodePortAddressesKeywords')}; kube-proxy ${v} refuses to start with ${newer.length > 1 ? 'them' : 'it'}: use 127.0.0.0/8,::1/128 for "localhost" and 0.0.0.0/0,::/0 for "all"`);
    } else if (npa.includes(NODEPORT_ADDRESSES_PRIMARY) && npa.length > 1) {
      errors.push(`NODEPORT_ADDRESSES: "${NODEPORT_ADDRESSES_PRIMARY}" must be alone before kube-proxy ${since('nodePortAddressesKeywords')} (kube-proxy ${v} refuses "can't use both 'primary' and CIDRs"): give "${NODEPORT_ADDRESSES_PRIMARY}" or CIDRs`);
    }
  }
  const conntrack = resolveConntrack(input.conntrack, version, errors);

  const resolved: ResolvedKubeProxySettings = {
    mode,
    featureGates: modeCheck.featureGates,
    ...optional('clusterCidr', input.clusterCidr),
    ...optional('hostnameOverride', input.hostnameOverride),
    ...optional('kubeconfig', input.kubeconfig),
    ...optional('metricsBindAddress', input.metricsBindAddress),
    ...optional('healthzBindAddress', input.healthzBindAddress),
    ...(input.nodePortAddresses !== undefined && input.nodePortAddresses.length > 0 ? { nodePortAddresses: input.nodePortAddresses } : {}),
    ...(conntrack === undefined ? {} : { conntrack }),
    ...(mode === 'ipvs' ? { ipvs: resolveIpvs(input.ipvs ?? {}) } : {}),
  };

  const hasConfigFile = reached(version, 'kubeProxyConfigFile');
  const { flags, gaps } = renderKubeProxyFlags(resolved, version);
  if (gaps.length > 0 && (!hasConfigFile || input.flagsRequired === true)) {
    errors.push(...gaps.map((gap) => (hasConfigFile ? gap : `${gap} (kube-proxy has no config file before ${since('kubeProxyConfigFile')})`)));
  }
  if (errors.length > 0) throw planError(`kube-proxy ${v}`, errors);

  return {
    document: hasConfigFile ? buildDocument(resolved, version) : null,
    flags,
    flagGaps: gaps,
    warnings,
    featureGates: modeCheck.featureGates,
  };
}

/** One usage error listing every problem; each line already names its setting and fix. */
export function planError(subject: string, errors: readonly string[]): Error {
  const message = errors.length === 1
    ? `${subject}: ${errors[0] as string}`
    : `${subject} cannot run this configuration:\n  - ${errors.join('\n  - ')}`;
  return usageError(message, '`local-up config show` lists every setting and where its value came from');
}

export function buildDocument(s: ResolvedKubeProxySettings, version: KubeVersion): KubeProxyConfiguration {
  const doc: KubeProxyConfiguration = {
    apiVersion: reached(version, 'kubeProxyConfigGroup') ? KUBE_PROXY_API_VERSION : KUBE_PROXY_LEGACY_API_VERSION,
    kind: 'KubeProxyConfiguration',
    mode: s.mode,
  };
  if (s.clusterCidr !== undefined) doc.clusterCIDR = s.clusterCidr;
  if (s.hostnameOverride !== undefined) doc.hostnameOverride = s.hostnameOverride;
  if (s.kubeconfig !== undefined) doc.clientConnection = { kubeconfig: s.kubeconfig };
  if (Object.keys(s.featureGates).length > 0) {
    doc.featureGates = reached(version, 'featureGatesMap') ? { ...s.featureGates } : featureGatesText(s.featureGates);
  }
  if (s.metricsBindAddress !== undefined) doc.metricsBindAddress = s.metricsBindAddress;
  if (s.healthzBindAddress !== undefined) doc.healthzBindAddress = s.healthzBindAddress;
  if (s.nodePortAddresses !== undefined) doc.nodePortAddresses = [...s.nodePortAddresses];
  if (s.conntrack !== undefined) doc.conntrack = { ...s.conntrack };
  if (s.ipvs !== undefined) {
    const i = s.ipvs;
    const ipvs: KubeProxyIpvsConfiguration = {};
    if (i.scheduler !== undefined) ipvs.scheduler = i.scheduler;
    if (i.syncPeriod !== undefined) ipvs.syncPeriod = i.syncPeriod;
    if (i.minSyncPeriod !== undefined) ipvs.minSyncPeriod = i.minSyncPeriod;
    if (i.strictArp === true) ipvs.strictARP = true;
    if (i.excludeCidrs !== undefined) ipvs.excludeCIDRs = [...i.excludeCidrs];
    if (i.tcpTimeout !== undefined) ipvs.tcpTimeout = i.tcpTimeout;
    if (i.tcpFinTimeout !== undefined) ipvs.tcpFinTimeout = i.tcpFinTimeout;
    if (i.udpTimeout !== undefined) ipvs.udpTimeout = i.udpTimeout;
    doc.ipvs = ipvs;
  }
  return doc;
}

/** Only what the user asked for (validated before): empty and zero values are left to kube-proxy. */
export function resolveIpvs(t: IpvsTuning): NonNullable<ResolvedKubeProxySettings['ipvs']> {
  return {
    // NOTE: kube-proxy's "" means rr; writing rr spares the "scheduler not specified" log line.
    scheduler: t.scheduler === undefined || t.scheduler === '' ? 'rr' : t.scheduler,
    ...optional('syncPeriod', nonEmpty(t.syncPeriod)),
    ...optional('minSyncPeriod', nonEmpty(t.minSyncPeriod)),
    ...(t.strictArp === true ? { strictArp: true } : {}),
    ...(t.excludeCidrs !== undefined && t.excludeCidrs.length > 0 ? { excludeCidrs: t.excludeCidrs } : {}),
    ...optional('tcpTimeout', isSetDuration(t.tcpTimeout) ? t.tcpTimeout : undefined),
    ...optional('tcpFinTimeout', isSetDuration(t.tcpFinTimeout) ? t.tcpFinTimeout : undefined),
    ...optional('udpTimeout', isSetDuration(t.udpTimeout) ? t.udpTimeout : undefined),
  };
}

function resolveConntrack(c: ConntrackTuning | undefined, version: KubeVersion, errors: string[]): ConntrackTuning | undefined {
  if (c === undefined) return undefined;
  const known = reached(version, 'conntrackMinAndCloseWait');
  const v = formatKubeVersion(version);
  const out: { -readonly [K in keyof ConntrackTuning]: ConntrackTuning[K] } = {};
  if (c.maxPerCore !== undefined) out.maxPerCore = c.maxPerCore;
  if (c.min !== undefined) {
    if (known) out.min = c.min;
    // A zero asks kube-proxy to leave the host alone, which a release without the field does anyway.
    else if (c.min !== 0) errors.push(`conntrack.min=${c.min} needs kube-proxy ${since('conntrackMinAndCloseWait')}; kube-proxy ${v} has no such setting`);
  }
  if (c.tcpEstablishedTimeout !== undefined) out.tcpEstablishedTimeout = c.tcpEstablishedTimeout;
  if (c.tcpCloseWaitTimeout !== undefined) {
    if (known) out.tcpCloseWaitTimeout = c.tcpCloseWaitTimeout;
    else if (isSetDuration(c.tcpCloseWaitTimeout)) errors.push(`conntrack.tcpCloseWaitTimeout=${c.tcpCloseWaitTimeout} needs kube-proxy ${since('conntrackMinAndCloseWait')}; kube-proxy ${v} has no such setting`);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** IP:port with a literal IP (kube-proxy's bind addresses take no host names). */
export function isHostPort(value: string): boolean {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  if (match === null) return false;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  return isIP(host) === (match[1] === undefined ? 4 : 6) && port >= 1 && port <= 65535;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
