// Every Kubernetes or kernel version boundary kube-local-up relies on, written
// once, each with the source it came from. Code asks the functions below; no
// other file compares against a literal minor version.
import type { KubeVersion } from '../config/kube-version.js';
import { compareMinor } from '../config/kube-version.js';

export interface VersionBoundary {
  /** The first minor release (1.N) where the fact holds. */
  readonly minor: number;
  readonly fact: string;
  readonly source: string;
}

const KP = '../shared/docs/kube-proxy-ipvs.md';
const ANCHORS = '../shared/docs/anchors-local-up.md';

export const BOUNDARIES = {
  ipvsAlpha: {
    minor: 8,
    fact: 'IPVS proxy mode exists (alpha); --proxy-mode=ipvs requires --feature-gates=SupportIPVSProxyMode=true',
    source: `${KP} §2.1 (feature gate table from kubernetes/website SupportIPVSProxyMode.md)`,
  },
  ipvsGateBeta: {
    minor: 9,
    fact: 'SupportIPVSProxyMode is beta, still default false, still required',
    source: `${KP} §2.1`,
  },
  ipvsGateDefaultOn: {
    minor: 10,
    fact: 'SupportIPVSProxyMode is beta and on by default; feature gates in config files become a map',
    source: `${KP} §2.1 (kubeadm PR #60540; CHANGELOG-1.10)`,
  },
  ipvsGateGA: {
    minor: 11,
    fact: 'SupportIPVSProxyMode is GA (always on); passing it only earns a warning',
    source: `${KP} §2.1`,
  },
  ipvsGateRemoved: {
    minor: 21,
    fact: 'SupportIPVSProxyMode no longer exists; passing it makes kube-proxy refuse to start',
    source: `${KP} §2.1 (PR #94514, "removed after 1.20")`,
  },
  schedulerModuleRequired: {
    minor: 20,
    fact: "kube-proxy also requires the configured scheduler's ip_vs_<name> module",
    source: `${KP} §1.1 (PR #93040, CHANGELOG-1.20)`,
  },
  ipvsFailureFatal: {
    minor: 26,
    fact: 'kube-proxy exits with an error instead of falling back to iptables when IPVS is unusable',
    source: `${KP} §1.1 (PR #111806, CHANGELOG-1.26)`,
  },
  moduleCheckRemoved: {
    minor: 27,
    fact: 'kube-proxy no longer checks a module list; it needs ipset >= 6.0 and a working scheduler (dummy virtual server probe)',
    source: `${KP} §1.1 (PRs #114669, #114878, CHANGELOG-1.27)`,
  },
  nftablesAlpha: {
    minor: 29,
    fact: 'nftables proxy mode exists (alpha, feature gate NFTablesProxyMode)',
    source: `${KP} §2.1; ${ANCHORS}`,
  },
  ipvsDeprecated: {
    minor: 35,
    fact: 'IPVS proxy mode is deprecated (KEP-5495); kube-proxy warns and emits an IPVSDeprecation event',
    source: `${ANCHORS} §0 (PR #134539); ${KP} §0.1 [SL-1.35]`,
  },
} as const satisfies Record<string, VersionBoundary>;

export type BoundaryId = keyof typeof BOUNDARIES;

/** True when version v is at or past the boundary. */
export const reached = (v: KubeVersion, id: BoundaryId): boolean =>
  compareMinor(v, { major: 1, minor: BOUNDARIES[id].minor }) >= 0;

/** Kernel boundary: nf_conntrack_ipv4 was merged into nf_conntrack in Linux 4.19 (commit a0ae2562). */
export const CONNTRACK_MERGED_KERNEL = { major: 4, minor: 19, source: `${KP} §1.1 (issue #70304)` } as const;

export type IpvsGateStage = 'unavailable' | 'required' | 'default-on' | 'ga' | 'removed';

/** What the SupportIPVSProxyMode feature gate means for a Kubernetes version. */
export function ipvsGateStage(v: KubeVersion): IpvsGateStage {
  if (!reached(v, 'ipvsAlpha')) return 'unavailable';
  if (!reached(v, 'ipvsGateDefaultOn')) return 'required';
  if (!reached(v, 'ipvsGateGA')) return 'default-on';
  if (!reached(v, 'ipvsGateRemoved')) return 'ga';
  return 'removed';
}
