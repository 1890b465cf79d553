// `local-up ipvs expect`: prints the IPVS table kube-proxy should program on a
// node, computed offline from Services and EndpointSlices.
import { readTextFileCapped } from '../read-input.js';
import { resolve } from 'node:path';
import type { IpFamilySetting } from '../../config/settings.js';
import { ExitCode, isLocalUpError, usageError } from '../../errors.js';
import type { IpFamily } from '../../kube/ip.js';
import { ipFamilyOf } from '../../kube/ip.js';
import { readClusterDocuments } from '../../kube/read.js';
import type { ClusterState } from '../../kube/types.js';
import { expectIpvsStateForFamilies } from '../../ipvs/expect.js';
import type { ExpectedIpvsState } from '../../ipvs/expect.js';
import type { ExpectedVirtualServer } from '../../ipvs/model.js';
import { hostPort } from '../../ipvs/model.js';
import type { OptionSpecs, ParsedValues } from '../args.js';
import { flagOption, listOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';
import type { Io } from '../../io/io.js';
import { jsonText } from '../../io/output.js';

/** Options shared by `ipvs expect` and `assert`: where the cluster comes from and which node to model. */
export const NODE_OPTIONS: OptionSpecs = {
  cluster: {
    type: 'string',
    multiple: true,
    value: 'FILE',
    description: 'Services and EndpointSlices as JSON: the output of `kubectl get services,endpointslices -A -o json`',
  },
  'node-name': { type: 'string', value: 'NAME', description: "the node's name as kube-proxy knows it (endpoints with this nodeName are local)" },
  'node-ip': {
    type: 'string',
    multiple: true,
    value: 'IP',
    description: "every address on the node's interfaces except kube-ipvs0, any family (commas allowed); the first of each family stands for the Node's InternalIP (--nodeport-addresses primary)",
  },
  'node-zone': {
    type: 'string',
    value: 'ZONE',
    description: "the node's topology.kubernetes.io/zone label (zone hints of EndpointSlices apply only with it)",
  },
  family: { type: 'string', value: 'IPv4|IPv6|dual', description: 'which kube-proxy instance(s) to model (default: from IP_FAMILY / --ip-family)' },
};

/** Reads every --cluster file into one ClusterState; warns on stderr about skipped kinds. */
export function readClusterFiles(io: Io, values: ParsedValues): ClusterState {
  const files = listOption(values, 'cluster');
  if (files.length === 0) {
    throw usageError('--cluster FILE is required', 'save the cluster with `kubectl get services,endpointslices -A -o json > cluster.json`');
  }
  const cluster = readClusterDocuments(files.map((file) => ({ text: readInputFile(io, '--cluster', file), source: file })));
  for (const [kind, count] of Object.entries(cluster.ignoredKinds)) {
    io.err(`warning: --cluster: ignored ${count} item${count === 1 ? '' : 's'} of kind ${kind} (only Service and EndpointSlice are used)\n`);
  }
  if (cluster.services.length === 0) io.err('warning: --cluster: no Services found; nothing is expected\n');
  return cluster;
}

/** Reads a text file named by a flag, relative to the working directory; a missing file is a usage error. */
export function readInputFile(io: Io, flag: string, file: string): string {
  try {
    return readTextFileCapped(resolve(io.cwd, file), `${flag} ${file}`);
  } catch (error) {
    if (isLocalUpError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw usageError(`${flag} ${file}: ${reason}`, `give the path of a readable file to ${flag}`);
  }
}

export interface NodeArguments {
  readonly name: string;
  readonly addresses: string[];
  /** --node-zone, or null. */
  readonly zone: string | null;
}

/** --node-name and --node-ip, validated. */
export function nodeArguments(values: ParsedValues): NodeArguments {
  const name = stringOption(values, 'node-name');
  if (name === undefined || name === '') throw usageError('--node-name NAME is required', "give the node's name as in `kubectl get nodes`");
  const addresses = listOption(values, 'node-ip')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (addresses.length === 0) {
    throw usageError('--node-ip IP is required', "give every address of the node's interfaces except kube-ipvs0 (e.g. from `ip -o addr`), repeating --node-ip");
  }
  for (const address of addresses) {
    if (ipFamilyOf(address) === null) {
      throw usageError(`--node-ip ${JSON.stringify(address)} is not an IP address`, 'give IPv4 or IPv6 addresses without a prefix length or %zone');
    }
  }
  const zone = stringOption(values, 'node-zone');
  return { name, addresses, zone: zone === undefined || zone === '' ? null : zone };
}

/** --family, or the IP_FAMILY setting when absent. */
export function familiesFor(values: ParsedValues, setting: IpFamilySetting): IpFamily[] {
  const raw = stringOption(values, 'family') ?? setting;
  switch (raw.toLowerCase()) {
    case 'ipv4':
      return [4];
    case 'ipv6':
      return [6];
    case 'dual':
      return [4, 6];
    default:
      throw usageError(`--family ${JSON.stringify(raw)} is not valid`, 'use IPv4, IPv6 or dual');
  }
}

export const command: CommandModule = {
  usage: '--cluster FILE --node-name NAME --node-ip IP... [--node-zone ZONE] [--k8s-version V] [--nodeport-addresses CIDR,...] [--scheduler rr] [--family IPv4|IPv6|dual] [--json]',
  description: `Prints the IPVS table kube-proxy in IPVS mode should program on one node, computed from
Services and EndpointSlices (kubectl get services,endpointslices -A -o json): one virtual
server per ClusterIP, externalIP, load-balancer IP and node address x NodePort, with their real
servers, plus the addresses expected on kube-ipvs0. --scheduler and --nodeport-addresses come
from IPVS_SCHEDULER and NODEPORT_ADDRESSES when not given.

With --json: {"node", "families", "scheduler", "virtualServers": [{"protocol", "address", "port",
"scheduler", "persistent": null | {"timeout"}, "realServers": [{"address", "port", "weight"}],
"service": {"namespace", "name", "portName"}, "kind"}], "kubeIpvs0Addresses": [...], "notes": [...]}.`,
  options: { ...NODE_OPTIONS, json: { type: 'boolean', description: 'print the expected state as JSON' } },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const settings = settingsFor(io, commandLine).values;
    const node = nodeArguments(values);
    const families = familiesFor(values, settings.ipFamily);
    const cluster = readClusterFiles(io, values);
    const expected = expectIpvsStateForFamilies(
      cluster,
      { name: node.name, zone: node.zone, addresses: node.addresses, primaryAddresses: node.addresses, nodePortAddresses: settings.nodePortAddresses, scheduler: settings.scheduler, kubeVersion: settings.kubeVersion },
      families,
    );
    if (flagOption(values, 'json')) {
      io.out(
        jsonText({
          node: node.name,
          families: families.map((f) => `IPv${f}`),
          scheduler: settings.scheduler,
          virtualServers: expected.virtualServers,
          kubeIpvs0Addresses: expected.kubeIpvs0Addresses,
          notes: expected.notes,
        }),
      );
    } else {
      io.out(formatExpectedState(node.name, families, settings.scheduler, expected));
    }
    return ExitCode.ok;
  },
};

/** A listing in the style of `ipvsadm -Ln`, each virtual server tagged with its Service. */
export function formatExpectedState(nodeName: string, families: readonly IpFamily[], scheduler: string, expected: ExpectedIpvsState): string {
  const vsCount = expected.virtualServers.length;
  const lines = [
    `Expected IPVS table on node ${nodeName} (${families.map((f) => `IPv${f}`).join(', ')}, scheduler ${scheduler}): ` +
      `${vsCount} virtual server${vsCount === 1 ? '' : 's'}`,
  ];
  const heads = expected.virtualServers.map(virtualServerLine);
  const width = Math.max(0, ...heads.map((h) => h.length));
  expected.virtualServers.forEach((vs, i) => {
    const service = `${vs.service.namespace}/${vs.service.name}${vs.service.portName === '' ? '' : ` ${vs.service.portName}`}`;
    lines.push(`${(heads[i] ?? '').padEnd(width)}  # ${service} (${vs.kind})`);
    for (const rs of vs.realServers) lines.push(`  -> ${hostPort(rs.address, rs.port).padEnd(28)} Masq    ${rs.weight}`);
  });
  lines.push(`kube-ipvs0: ${expected.kubeIpvs0Addresses.length === 0 ? '(none)' : expected.kubeIpvs0Addresses.join(', ')}`);
  for (const note of expected.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function virtualServerLine(vs: ExpectedVirtualServer): string {
  const persistent = vs.persistent === null ? '' : ` persistent ${vs.persistent.timeout}`;
  return `${vs.protocol.padEnd(4)} ${hostPort(vs.address, vs.port)} ${vs.scheduler}${persistent}`;
}
