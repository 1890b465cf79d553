// `local-up assert`. Offline mode (here): reads a node's IPVS table and the cluster's
// Services/EndpointSlices from files, computes what kube-proxy should have
// programmed and reports every difference. The comparison itself is the pure
// checkNodeIpvs(); only file reading and writing live here, so a live mode
// (assert-live.ts, loaded only when used: it brings kubectl's adapter) feeds the same core.
import { performance } from 'node:perf_hooks';
import { ExitCode, LocalUpError, isLocalUpError, usageError } from '../../errors.js';
import { checkNodeIpvs } from '../../ipvs/diff.js';
import type { IpvsTable } from '../../ipvs/model.js';
import { IPVS_FORMAT_HELP, ipvsFormatOption, readIpvsText } from '../../ipvs/read.js';
import { formatIpvsReport, ipvsCheckJson, renderJunit } from '../../ipvs/report.js';
import { DEFAULT_NODE_POD_IMAGE, NODE_POD_NAMESPACE } from '../../kube/node-pod-defaults.js';
import { flagOption, listOption, settingsFor, stringOption } from '../args.js';
import type { ParsedValues } from '../args.js';
import type { CommandModule } from '../command.js';
import type { Io } from '../../io/io.js';
import { jsonText } from '../../io/output.js';
import { writeJunitFile } from '../../io/junit.js';
import { NODE_OPTIONS, familiesFor, nodeArguments, readClusterFiles, readInputFile } from './ipvs-expect.js';

export const command: CommandModule = {
  usage: '[--kubeconfig FILE] [--all-nodes | --host local] [--node-name NAME] [--json] [--junit FILE]  |  --ipvs FILE --cluster FILE --node-name NAME --node-ip IP... [--hz N] [--format list|save|proc] [--family IPv4|IPv6|dual] [--json] [--junit FILE]',
  description: `Proves kube-proxy programmed IPVS correctly: computes the table kube-proxy should have programmed
from the cluster's Services and EndpointSlices and reports every difference grouped by Service
port: missing or unexpected virtual servers and real servers, scheduler, persistence and weight
mismatches, and (live) Service addresses missing from kube-ipvs0. Real servers left at weight 0
are draining (a warning). Virtual servers nobody expects inside IPVS_EXCLUDE_CIDRS are left alone.

Live mode (no --ipvs/--cluster): reads the cluster with kubectl (--kubeconfig, default: the state
file's kubeconfig, else KUBECONFIG_OUT) and each node's /proc/net/ip_vs (HZ from the kernel config
when readable) and \`ip -o addr\` through:
  - the provider, for a cluster \`up\` created (kind: the engine's exec into each node container);
  - --host local: this machine (one node, named by --node-name, else the cluster's only node);
  - --all-nodes: for a cluster kube-local-up did not create, a short-lived pod per node with
    hostNetwork (no privilege; image --pod-image, namespace ${NODE_POD_NAMESPACE}), reached with
    \`kubectl exec\` and deleted afterwards, also after a failure or Ctrl-C. A pod named by
    kube-local-up is used rather than \`kubectl debug node\`, whose generated pod name could leak
    on interruption and whose host-network use depends on kubectl's --profile.
--node-name limits a live run to one node.

Offline mode: the node's table from --ipvs (ipvsadm -Ln, ipvsadm -Sn or /proc/net/ip_vs) and the
cluster from --cluster (kubectl get services,endpointslices -A -o json), for one node.

Exit status: 0 every table matches, 1 one does not, 2 bad input, 3 the cluster or a node cannot
be read. With --json, offline: {"node", "families", "ok", "failures", "warnings", "counts",
"kubeIpvs0Addresses", "services": [{"service", "label", "virtualServers", "ok", "findings": [{"kind",
"severity", "virtualServer", "realServer", "expected", "actual", "message"}]}], "notes"}; live:
{"ok", "kubeconfig", "nodes": [that object per node]}.
With --junit FILE: also writes JUnit XML (one testsuite per node, one testcase per Service port).`,
  options: {
    ipvs: { type: 'string', value: 'FILE', description: "offline: the node's IPVS table: ipvsadm -Ln, ipvsadm -Sn or /proc/net/ip_vs output" },
    ...NODE_OPTIONS,
    hz: { type: 'string', value: 'N', description: "offline: the node kernel's HZ, to read /proc/net/ip_vs persistence timeouts (jiffies) as seconds" },
    format: { type: 'string', value: 'FORM', description: `offline: the form of --ipvs: ${IPVS_FORMAT_HELP} (default: detected)` },
    kubeconfig: { type: 'string', value: 'FILE', description: "live: the cluster's kubeconfig (default: the state file's, else KUBECONFIG_OUT)" },
    host: { type: 'string', value: 'local', description: 'live: read the table on this machine (the node kube-proxy runs on)' },
    'all-nodes': { type: 'boolean', description: 'live: read every node through a short-lived host-network pod (clusters up did not create)' },
    'pod-image': { type: 'string', value: 'IMAGE', description: `live, --all-nodes: the helper pod's image (needs cat, ip, zcat; default ${DEFAULT_NODE_POD_IMAGE})` },
    json: { type: 'boolean', description: 'print the result as JSON' },
    junit: { type: 'string', value: 'FILE', description: 'write the result as JUnit XML to FILE' },
  },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const resolved = settingsFor(io, commandLine);
    if (stringOption(values, 'ipvs') === undefined && listOption(values, 'cluster').length === 0) return (await import('./assert-live.js')).runLive(io, commandLine, resolved);
    const settings = resolved.values;
    const node = nodeArguments(values);
    const families = familiesFor(values, settings.ipFamily);
    const junitFile = stringOption(values, 'junit');
    const table = readTableFile(io, values);
    const cluster = readClusterFiles(io, values);

    const started = performance.now();
    const check = checkNodeIpvs({
      cluster,
      table,
      node: { name: node.name, zone: node.zone, addresses: node.addresses, primaryAddresses: node.addresses, nodePortAddresses: settings.nodePortAddresses, scheduler: settings.scheduler, kubeVersion: settings.kubeVersion },
      families,
      excludeCidrs: settings.excludeCidrs,
    });
    const elapsedSeconds = (performance.now() - started) / 1000;
    rejectEmptyComparison(check.node, families, check.diff.counts, table);

    if (junitFile !== undefined) writeJunitFile(io.cwd, junitFile, renderJunit([check], { timeSeconds: { [check.node]: elapsedSeconds } }));
    io.out(flagOption(values, 'json') ? jsonText(ipvsCheckJson(check)) : formatIpvsReport(check));
    return check.diff.ok ? ExitCode.ok : ExitCode.failed;
  },
};

/** A check that compared nothing proves nothing: it must not end in "OK". */
function rejectEmptyComparison(node: string, families: readonly number[], counts: { expectedVirtualServers: number; actualVirtualServers: number; ignoredVirtualServers: number }, table: IpvsTable): void {
  if (counts.expectedVirtualServers > 0 || counts.actualVirtualServers - counts.ignoredVirtualServers > 0) return;
  const byFamily = [4, 6].map((family) => ({ family, count: table.services.filter((s) => s.family === family).length })).filter((f) => f.count > 0);
  const held = byFamily.length === 0 ? 'the table is empty' : `the table holds ${byFamily.map((f) => `${f.count} IPv${f.family}`).join(' and ')} virtual servers`;
  throw usageError(
    `nothing to compare on node ${node} for ${families.map((f) => `IPv${f}`).join(' and ')}: the cluster gives no such virtual servers and ${held}`,
    byFamily.length === 0 ? 'check that --cluster and --ipvs come from the same cluster and node' : `choose --family to match the files (here: --family ${byFamily.map((f) => `IPv${f.family}`).join(' or ')}), or check --node-name and --node-ip`,
  );
}

function readTableFile(io: Io, values: ParsedValues): IpvsTable {
  const file = stringOption(values, 'ipvs');
  if (file === undefined) throw usageError('--ipvs FILE is required', 'save the table on the node with `ipvsadm -Ln > ipvs.txt` (or ipvsadm -Sn, or cat /proc/net/ip_vs)');
  const hzText = stringOption(values, 'hz');
  if (hzText !== undefined && !/^[1-9]\d*$/.test(hzText)) {
    throw usageError(`--hz ${JSON.stringify(hzText)} is not a positive whole number`, 'the kernel HZ is one of 100, 250, 300 or 1000 (grep CONFIG_HZ= /boot/config-$(uname -r))');
  }
  const format = ipvsFormatOption(stringOption(values, 'format'));
  const text = readInputFile(io, '--ipvs', file);
  try {
    return readIpvsText(text, {
      ...(hzText === undefined ? {} : { hz: Number(hzText) }),
      ...(format === undefined ? {} : { format }),
    });
  } catch (error) {
    // The reader's message says what is wrong with the text; name the file it came from.
    if (isLocalUpError(error)) {
      throw new LocalUpError(error.exitCode, `--ipvs ${file}: ${error.message}`, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        ...(error.details === undefined ? {} : { details: error.details }),
      });
    }
    throw error;
  }
}
