// What a Kubernetes version allows for kube-proxy's mode, its feature gates and
// the IPVS tuning settings. Pure: doctor, `up --dry-run` and the config
// generators all ask these functions, so they agree on every boundary.
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';
import { durationSeconds } from '../config/parsers.js';
import type { ProxyMode, SettingKey, Settings } from '../config/settings.js';
import { settingSpecs } from '../config/settings.js';
import { ipvsGateStage, lastBefore, reached, since } from './versions.js';

export const IPVS_GATE = 'SupportIPVSProxyMode';
export const NFTABLES_GATE = 'NFTablesProxyMode';
export const KUBE_PROXY_IPVS_GATE = 'KubeProxyIPVS';

/**
 * The schedulers kube-proxy's config validation accepted before 1.27
 * (validateIPVSSchedulerMethod); from 1.27 any scheduler the kernel has works.
 */
export const PRE_1_27_IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq'] as const;

/** kube-proxy's default IPVS sync period (ipvs.syncPeriod), used to check minSyncPeriod against it. */
const DEFAULT_IPVS_SYNC_PERIOD_S = 30;

export interface ProxyModeCheck {
  /** Each names the setting and what to change. Empty when the combination can run. */
  readonly errors: string[];
  readonly warnings: string[];
  /**
   * The feature gates kube-proxy should get: the ones the mode needs on this
   * version first (SupportIPVSProxyMode on 1.8/1.9, NFTablesProxyMode on
   * 1.29/1.30), then the user's FEATURE_GATES.
   */
  readonly featureGates: Record<string, boolean>;
}

/** The IPVS tuning settings; empty strings, 0s and undefined mean "kube-proxy's default". */
export interface IpvsTuning {
  readonly scheduler?: string;
  readonly strictArp?: boolean;
  readonly syncPeriod?: string;
  readonly minSyncPeriod?: string;
  readonly tcpTimeout?: string;
  readonly tcpFinTimeout?: string;
  readonly udpTimeout?: string;
  readonly excludeCidrs?: readonly string[];
}

/** The IPVS tuning settings as the planners and validators take them. */
export function ipvsTuningOf(s: Settings): IpvsTuning {
  return {
    scheduler: s.scheduler,
    strictArp: s.strictArp,
    syncPeriod: s.ipvsSyncPeriod,
    minSyncPeriod: s.ipvsMinSyncPeriod,
    tcpTimeout: s.ipvsTcpTimeout,
    tcpFinTimeout: s.ipvsTcpFinTimeout,
    udpTimeout: s.ipvsUdpTimeout,
    excludeCidrs: s.excludeCidrs,
  };
}

export interface Findings {
  readonly errors: string[];
  readonly warnings: string[];
}

/** "IPVS_STRICT_ARP (--strict-arp)": how messages name a setting. */
export function settingLabel(key: SettingKey): string {
  const spec = settingSpecs({})[key];
  return `${spec.env} (--${spec.flag})`;
}

/** "IPVS_STRICT_ARP=true (--strict-arp)": how messages name a setting's value. */
export function settingAssignment(key: SettingKey, value: string): string {
  const spec = settingSpecs({})[key];
  return `${spec.env}=${value} (--${spec.flag})`;
}

/**
 * Can kube-proxy of this version run in this mode with these feature gates?
 * Returns the gates kube-proxy should get, with the ones the mode needs added.
 */
export function validateProxyModeForVersion(
  mode: ProxyMode,
  version: KubeVersion,
  featureGates: Readonly<Record<string, boolean>>,
): ProxyModeCheck {
  const v = formatKubeVersion(version);
  const errors: string[] = [];
  const warnings: string[] = [];
  const added: Record<string, boolean> = {};
  const gates = settingLabel('featureGates');

  if (!reached(version, 'kubeProxyFlagsKnown')) {
    errors.push(`KUBE_VERSION=${v} is older than ${since('kubeProxyFlagsKnown')}, the oldest kube-proxy kube-local-up knows: set KUBE_VERSION (--k8s-version) to ${since('kubeProxyFlagsKnown')} or later`);
  }

  // SupportIPVSProxyMode: required on 1.8/1.9, on by default on 1.10, GA 1.11-1.20, gone after.
  const ipvsGate = featureGates[IPVS_GATE];
  switch (ipvsGateStage(version)) {
    case 'unavailable':
      if (ipvsGate !== undefined) errors.push(`${gates} sets ${IPVS_GATE}, which kube-proxy ${v} does not know (it appeared in ${since('ipvsAlpha')}): remove it`);
      break;
    case 'required':
      if (mode === 'ipvs') {
        if (ipvsGate === false) {
          errors.push(`${gates} sets ${IPVS_GATE}=false, but kube-proxy ${v} runs IPVS mode only with ${IPVS_GATE}=true: remove it (kube-local-up adds the gate for IPVS mode)`);
        } else {
          added[IPVS_GATE] = true;
        }
      }
      break;
    case 'default-on':
      if (mode === 'ipvs' && ipvsGate === false) {
        errors.push(`${gates} sets ${IPVS_GATE}=false, which turns IPVS mode off in kube-proxy ${v}: remove it`);
      }
      break;
    case 'ga':
      if (ipvsGate === false && mode === 'ipvs') {
        errors.push(`${gates} sets ${IPVS_GATE}=false, which turns IPVS mode off in kube-proxy ${v}: remove it`);
      } else if (ipvsGate !== undefined) {
        warnings.push(`${IPVS_GATE} is GA since ${since('ipvsGateGA')}; kube-proxy ${v} only warns about it: drop it from ${gates}`);
      }
      break;
    case 'removed':
      if (ipvsGate !== undefined) {
        errors.push(`${gates} sets ${IPVS_GATE}, which was removed after ${lastBefore('ipvsGateRemoved')}; kube-proxy ${v} refuses to start with it: remove it`);
      }
      break;
  }

  // KubeProxyIPVS: exists (deprecated, default true) from 1.37; false turns IPVS mode off.
  const kubeProxyIpvs = featureGates[KUBE_PROXY_IPVS_GATE];
  if (kubeProxyIpvs !== undefined && !reached(version, 'kubeProxyIpvsGate')) {
    errors.push(`${gates} sets ${KUBE_PROXY_IPVS_GATE}, which kube-proxy ${v} does not know (it appeared in ${since('kubeProxyIpvsGate')}): remove it`);
  } else if (kubeProxyIpvs === false && mode === 'ipvs') {
    errors.push(`${gates} sets ${KUBE_PROXY_IPVS_GATE}=false, which makes kube-proxy ${v} refuse IPVS mode: remove it, or use KUBE_PROXY_MODE=nftables`);
  }

  // NFTablesProxyMode: alpha (needed) 1.29-1.30, beta 1.31-1.32, GA and locked from 1.33.
  const nftGate = featureGates[NFTABLES_GATE];
  if (nftGate !== undefined && !reached(version, 'nftablesAlpha')) {
    errors.push(`${gates} sets ${NFTABLES_GATE}, which kube-proxy ${v} does not know (it appeared in ${since('nftablesAlpha')}): remove it`);
  } else if (nftGate === false && reached(version, 'nftablesGA')) {
    errors.push(`${gates} sets ${NFTABLES_GATE}=false, but the gate is GA and locked on since ${since('nftablesGA')}; kube-proxy ${v} refuses it: remove it`);
  } else if (nftGate === false && mode === 'nftables') {
    errors.push(`${gates} sets ${NFTABLES_GATE}=false, which turns nftables mode off in kube-proxy ${v}: remove it`);
  }

  if (mode === 'ipvs') {
    if (!reached(version, 'ipvsAlpha')) {
      errors.push(`${settingAssignment('proxyMode', 'ipvs')} needs Kubernetes ${since('ipvsAlpha')} or later (IPVS mode appeared there as alpha); KUBE_VERSION=${v}: set KUBE_VERSION to ${since('ipvsAlpha')} or later, or use KUBE_PROXY_MODE=iptables`);
    } else if (reached(version, 'ipvsDeprecated')) {
      warnings.push(`IPVS proxy mode is deprecated since Kubernetes ${since('ipvsDeprecated')} (KEP-5495): kube-proxy ${v} logs a deprecation warning and records an IPVSDeprecation event on the Node; plan a move to KUBE_PROXY_MODE=nftables (GA since ${since('nftablesGA')})`);
    }
  } else if (mode === 'nftables') {
    if (!reached(version, 'nftablesAlpha')) {
      errors.push(`${settingAssignment('proxyMode', 'nftables')} needs Kubernetes ${since('nftablesAlpha')} or later (alpha behind the ${NFTABLES_GATE} gate in ${since('nftablesAlpha')}-${lastBefore('nftablesBeta')}, on by default from ${since('nftablesBeta')}); KUBE_VERSION=${v}: set KUBE_VERSION (--k8s-version) to ${since('nftablesAlpha')} or later, or use KUBE_PROXY_MODE=ipvs or iptables`);
    } else if (!reached(version, 'nftablesBeta') && nftGate !== false) {
      added[NFTABLES_GATE] = true;
      if (nftGate === undefined) {
        warnings.push(`nftables mode is alpha in kube-proxy ${v}: kube-local-up adds the feature gate ${NFTABLES_GATE}=true to kube-proxy (it is on by default from ${since('nftablesBeta')})`);
      }
    }
  }

  return { errors, warnings, featureGates: { ...added, ...featureGates } };
}

/**
 * Can kube-proxy of this version honour the IPVS tuning settings? A setting
 * the version cannot honour is an error naming the release that added it.
 * In another mode the settings do nothing: a warning, never an error.
 */
export function validateIpvsTuning(tuning: IpvsTuning, mode: ProxyMode, version: KubeVersion): Findings {
  const v = formatKubeVersion(version);
  const errors: string[] = [];
  const warnings: string[] = [];
  const given = givenIpvsSettings(tuning);
  if (mode !== 'ipvs') {
    if (given.length > 0) {
      warnings.push(`${given.map(settingLabel).join(', ')} only apply to IPVS mode; with KUBE_PROXY_MODE=${mode} they are left out`);
    }
    return { errors, warnings };
  }
  if (!reached(version, 'ipvsAlpha')) return { errors, warnings }; // the mode error says it all

  const scheduler = tuning.scheduler;
  if (scheduler !== undefined && scheduler !== '' && !reached(version, 'schedulerAllowListRemoved')
    && !(PRE_1_27_IPVS_SCHEDULERS as readonly string[]).includes(scheduler)) {
    errors.push(`${settingAssignment('scheduler', scheduler)} is rejected by kube-proxy ${v}: before ${since('schedulerAllowListRemoved')} it accepts only ${PRE_1_27_IPVS_SCHEDULERS.join(', ')}; pick one of those or set KUBE_VERSION to ${since('schedulerAllowListRemoved')} or later`);
  }

  if (tuning.strictArp === true) {
    if (!reached(version, 'ipvsStrictArpBackport')) {
      errors.push(`${settingAssignment('strictArp', 'true')} needs kube-proxy ${since('ipvsStrictArp')} (ipvs.strictARP, PR #75295; back-ported to later 1.13/1.14 patches); KUBE_VERSION=${v}: set KUBE_VERSION to ${since('ipvsStrictArp')} or later, or IPVS_STRICT_ARP=false`);
    } else if (!reached(version, 'ipvsStrictArp')) {
      warnings.push(`${settingLabel('strictArp')}: kube-proxy ${version.major}.${version.minor} has ipvs.strictARP only in its later patch releases (back-port of PR #75295, e.g. 1.14.4 has it); an older patch ignores the field and exits on the flag`);
    }
  }

  if (tuning.excludeCidrs !== undefined && tuning.excludeCidrs.length > 0 && !reached(version, 'ipvsExcludeCidrs')) {
    errors.push(`${settingLabel('excludeCidrs')} needs kube-proxy ${since('ipvsExcludeCidrs')} (ipvs.excludeCIDRs); KUBE_VERSION=${v}: set KUBE_VERSION to ${since('ipvsExcludeCidrs')} or later, or leave IPVS_EXCLUDE_CIDRS empty`);
  }

  for (const key of ['ipvsTcpTimeout', 'ipvsTcpFinTimeout', 'ipvsUdpTimeout'] as const) {
    const value = tuning[TUNING_FIELD[key]];
    if (typeof value === 'string' && isSetDuration(value) && !reached(version, 'ipvsTimeouts')) {
      errors.push(`${settingAssignment(key, value)} needs kube-proxy ${since('ipvsTimeouts')} (PR #85517); KUBE_VERSION=${v}: set KUBE_VERSION to ${since('ipvsTimeouts')} or later, or leave the timeout empty`);
    }
  }

  if (tuning.syncPeriod !== undefined && tuning.syncPeriod !== '' && durationSeconds(tuning.syncPeriod) <= 0) {
    errors.push(`${settingAssignment('ipvsSyncPeriod', tuning.syncPeriod)}: kube-proxy requires ipvs.syncPeriod to be greater than 0; leave it empty for the default (${DEFAULT_IPVS_SYNC_PERIOD_S}s)`);
  }
  if (tuning.minSyncPeriod !== undefined && tuning.minSyncPeriod !== '') {
    const sync = tuning.syncPeriod !== undefined && tuning.syncPeriod !== '' ? durationSeconds(tuning.syncPeriod) : DEFAULT_IPVS_SYNC_PERIOD_S;
    if (durationSeconds(tuning.minSyncPeriod) > sync) {
      errors.push(`${settingAssignment('ipvsMinSyncPeriod', tuning.minSyncPeriod)} is longer than the sync period (${tuning.syncPeriod !== undefined && tuning.syncPeriod !== '' ? tuning.syncPeriod : `${DEFAULT_IPVS_SYNC_PERIOD_S}s, the default`}); kube-proxy requires minSyncPeriod <= syncPeriod`);
    }
  }
  return { errors, warnings };
}

/** A duration that asks for something: empty and zero mean "leave the default". */
export function isSetDuration(value: string | undefined): value is string {
  return value !== undefined && value !== '' && durationSeconds(value) > 0;
}

const TUNING_FIELD = {
  ipvsTcpTimeout: 'tcpTimeout',
  ipvsTcpFinTimeout: 'tcpFinTimeout',
  ipvsUdpTimeout: 'udpTimeout',
} as const;

/** Settings the user set to something other than kube-proxy's default. */
function givenIpvsSettings(t: IpvsTuning): SettingKey[] {
  const keys: SettingKey[] = [];
  if (t.scheduler !== undefined && t.scheduler !== '' && t.scheduler !== 'rr') keys.push('scheduler');
  if (t.strictArp === true) keys.push('strictArp');
  if (t.syncPeriod !== undefined && t.syncPeriod !== '') keys.push('ipvsSyncPeriod');
  if (t.minSyncPeriod !== undefined && t.minSyncPeriod !== '') keys.push('ipvsMinSyncPeriod');
  if (isSetDuration(t.tcpTimeout)) keys.push('ipvsTcpTimeout');
  if (isSetDuration(t.tcpFinTimeout)) keys.push('ipvsTcpFinTimeout');
  if (isSetDuration(t.udpTimeout)) keys.push('ipvsUdpTimeout');
  if (t.excludeCidrs !== undefined && t.excludeCidrs.length > 0) keys.push('excludeCidrs');
  return keys;
}
