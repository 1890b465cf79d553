// The virtual servers a local cluster in IPVS mode must have on this host, whatever
// the API says: the kubernetes Service (first service address, 443/TCP) to the API
// server's secure port, and kube-dns (KUBE_DNS_SERVER_IP, 53/UDP, 53/TCP, 9153/TCP)
// with at least one real server each. The orchestrator's assertions compare the
// table with the API's Services; this check also fails when a Service itself is
// missing. Pure.
import type { IpvsTable } from '../../ipvs/model.js';
import { hostPort, virtualServerKey } from '../../ipvs/model.js';
import { DNS_SERVICE_PORTS } from './coredns.js';

export interface RequiredVirtualServer {
  readonly protocol: 'TCP' | 'UDP';
  readonly address: string;
  readonly port: number;
  /** Every real server must use this port (the API server's); null: any. */
  readonly realPort: number | null;
  readonly service: string;
}

export function requiredVirtualServers(input: { readonly firstServiceIp: string; readonly apiSecurePort: number; readonly dnsServerIp: string | null }): RequiredVirtualServer[] {
  const required: RequiredVirtualServer[] = [{ protocol: 'TCP', address: input.firstServiceIp, port: 443, realPort: input.apiSecurePort, service: 'default/kubernetes:https' }];
  if (input.dnsServerIp !== null) {
    for (const p of DNS_SERVICE_PORTS) required.push({ protocol: p.protocol, address: input.dnsServerIp, port: p.port, realPort: null, service: `kube-system/kube-dns:${p.name}` });
  }
  return required;
}

/** One line per required virtual server that is absent, has no real server, or points elsewhere. */
export function missingVirtualServers(table: IpvsTable, required: readonly RequiredVirtualServer[]): string[] {
  const problems: string[] = [];
  for (const want of required) {
    const key = virtualServerKey({ protocol: want.protocol, address: want.address, port: want.port });
    const found = table.services.find((vs) => vs.protocol === want.protocol && vs.address === want.address && vs.port === want.port);
    if (found === undefined) {
      problems.push(`${key} (${want.service}) is not in the IPVS table`);
    } else if (found.destinations.length === 0) {
      problems.push(`${key} (${want.service}) has no real servers`);
    } else if (want.realPort !== null && found.destinations.some((d) => d.port !== want.realPort)) {
      problems.push(`${key} (${want.service}) sends to ${found.destinations.map((d) => hostPort(d.address, d.port)).join(', ')}, not to port ${want.realPort} (API_SECURE_PORT)`);
    }
  }
  return problems;
}
