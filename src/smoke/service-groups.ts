// Pure: a node's IPVS check narrowed to the smoke Services, one group per Service
// port, with the evidence smoke shows for it.
import type { NodeCheck } from '../ipvs/diff.js';
import type { IpvsTable } from '../ipvs/model.js';
import { hostPort, virtualServerKey } from '../ipvs/model.js';
import { ipFamilyOf } from '../kube/ip.js';
import type { SmokeService } from './kube.js';

export interface SmokeGroup {
  readonly label: string;
  readonly ok: boolean;
  readonly virtualServers: number;
  readonly problems: readonly string[];
  evidence(table: IpvsTable | undefined): string[];
}

/**
 * The node check narrowed to the smoke Services (the cluster read was the smoke namespace only,
 * so every other virtual server shows up as "(no Service)", which is not smoke's business),
 * with each ClusterIP's kube-ipvs0 finding joined to its Service.
 */
export function smokeGroups(check: NodeCheck, services: ReadonlyMap<string, SmokeService>): SmokeGroup[] {
  const byAddress = new Map([...services.values()].filter((svc) => ipFamilyOf(svc.clusterIP) !== null).map((svc) => [svc.clusterIP, svc.name]));
  const ipvs0 = check.diff.services.filter((g) => g.service === null).flatMap((g) => g.findings).filter((f) => f.kind === 'missing-kube-ipvs0-address');
  return check.diff.services
    .filter((g) => g.service !== null)
    .map((group) => {
      const service = group.service;
      const mine = ipvs0.filter((f) => f.expected !== null && byAddress.get(f.expected) === service?.name);
      const problems = [...group.findings.filter((f) => f.severity === 'failure'), ...mine].map((f) => f.message);
      const warnings = group.findings.filter((f) => f.severity === 'warning').map((f) => `warning: ${f.message}`);
      const expected = check.expected.virtualServers.filter((vs) => vs.service.namespace === service?.namespace && vs.service.name === service.name && vs.service.portName === service.portName);
      return {
        // Without the namespace: the same name every run.
        label: service === null ? group.label : `Service ${service.name}${service.portName === '' ? '' : ` port ${service.portName}`}`,
        ok: problems.length === 0,
        virtualServers: group.virtualServers,
        problems,
        evidence(table: IpvsTable | undefined): string[] {
          const lines = expected.map((vs) => {
            const key = virtualServerKey(vs);
            const actual = table?.services.find((a) => virtualServerKey(a) === key);
            const shown = actual === undefined ? 'missing' : `${actual.scheduler}${actual.persistent === null ? '' : ` persistent ${actual.persistent.timeout ?? '?'}${actual.persistent.unit === 'seconds' ? 's' : ' jiffies'}`}: ${actual.destinations.map((d) => `${hostPort(d.address, d.port)} w${d.weight}`).join(', ') || 'no real servers'}`;
            return `${vs.kind} ${key}: ${shown}`;
          });
          const clusterIPs = [...new Set(expected.filter((vs) => vs.kind === 'ClusterIP').map((vs) => vs.address))];
          for (const address of clusterIPs) lines.push(`${address} ${mine.some((f) => f.expected === address) ? 'is NOT' : 'is'} bound to kube-ipvs0`);
          return [...lines, ...warnings];
        },
      };
    });
}
