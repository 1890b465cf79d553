// The parts of a running kube-proxy's KubeProxyConfiguration (kubeadm's and kind's
// kube-system/kube-proxy ConfigMap, key config.conf) that decide what changes when it
// leaves IPVS. Pure: text in, data out; unknown fields are ignored, wrong types reported.
import { parse } from 'yaml';

export interface IpvsSettingsSeen {
  /** ipvs.scheduler; "" when unset (kube-proxy then uses rr). */
  readonly scheduler: string;
  readonly syncPeriod: string | null;
  readonly minSyncPeriod: string | null;
  readonly tcpTimeout: string | null;
  readonly tcpFinTimeout: string | null;
  readonly udpTimeout: string | null;
  readonly excludeCIDRs: readonly string[];
  readonly strictARP: boolean;
}

export interface KubeProxySettingsSeen {
  /** mode as written ("" means kube-proxy's default, iptables on Linux). */
  readonly mode: string;
  readonly ipvs: IpvsSettingsSeen;
  readonly nodePortAddresses: readonly string[];
  /** iptables.localhostNodePorts; null when unset (kube-proxy's default is true). */
  readonly localhostNodePorts: boolean | null;
}

export class KubeProxyConfigError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a KubeProxyConfiguration document (YAML or JSON). */
export function readKubeProxyConfigText(text: string): KubeProxySettingsSeen {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new KubeProxyConfigError(`not YAML: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new KubeProxyConfigError('expected a KubeProxyConfiguration mapping');
  if (value.kind !== undefined && value.kind !== 'KubeProxyConfiguration') throw new KubeProxyConfigError(`kind is ${JSON.stringify(value.kind)}, not KubeProxyConfiguration`);
  const ipvs = isObject(value.ipvs) ? value.ipvs : {};
  const iptables = isObject(value.iptables) ? value.iptables : {};
  const text_ = (o: Json, key: string, where: string): string | null => {
    const v = o[key];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') throw new KubeProxyConfigError(`${where}${key} must be a string`);
    return v;
  };
  const list = (o: Json, key: string, where: string): string[] => {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KubeProxyConfigError(`${where}${key} must be a list of strings`);
    return v as string[];
  };
  const bool = (o: Json, key: string, where: string): boolean | null => {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'boolean') throw new KubeProxyConfigError(`${where}${key} must be true or false`);
    return v;
  };
  return {
    mode: text_(value, 'mode', '') ?? '',
    ipvs: {
      scheduler: text_(ipvs, 'scheduler', 'ipvs.') ?? '',
      syncPeriod: text_(ipvs, 'syncPeriod', 'ipvs.'),
      minSyncPeriod: text_(ipvs, 'minSyncPeriod', 'ipvs.'),
      tcpTimeout: zeroIsUnset(text_(ipvs, 'tcpTimeout', 'ipvs.')),
      tcpFinTimeout: zeroIsUnset(text_(ipvs, 'tcpFinTimeout', 'ipvs.')),
      udpTimeout: zeroIsUnset(text_(ipvs, 'udpTimeout', 'ipvs.')),
      excludeCIDRs: list(ipvs, 'excludeCIDRs', 'ipvs.'),
      strictARP: bool(ipvs, 'strictARP', 'ipvs.') ?? false,
    },
    nodePortAddresses: list(value, 'nodePortAddresses', ''),
    localhostNodePorts: bool(iptables, 'localhostNodePorts', 'iptables.'),
  };
}

// NOTE: kube-proxy leaves the kernel's IPVS timeouts alone when a timeout is 0 (pkg/proxy/ipvs/proxier.go, "0s" means unset).
function zeroIsUnset(value: string | null): string | null {
  return value === null || /^0+(\.0+)?[a-z]*$/.test(value) ? null : value;
}
