// `local-up assert` (offline mode): reads a node's IPVS table and the cluster's
// Services/EndpointSlices from files, computes what kube-proxy should have
// programmed and reports every difference. The comparison itself is the pure
// checkNodeIpvs(); only file reading and writing live here, so a live mode
// (kubectl + a Host) can feed the same core.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ExitCode, LocalUpError, isLocalUpError, usageError } from '../../errors.js';
import { checkNodeIpvs } from '../../ipvs/diff.js';
import type { IpvsSourceFormat, IpvsTable } from '../../ipvs/model.js';
import { readIpvsText } from '../../ipvs/read.js';
import { formatIpvsReport, ipvsCheckJson, renderJunit } from '../../ipvs/report.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { ParsedValues } from '../args.js';
import type { CommandModule } from '../command.js';
import type { Io } from '../io.js';
import { jsonText } from '../output.js';
import { NODE_OPTIONS, familiesFor, nodeArguments, readClusterFiles, readInputFile } from './ipvs-expect.js';

const IPVS_FORMATS: readonly IpvsSourceFormat[] = ['ipvsadm-list', 'ipvsadm-save', 'proc'];

export const command: CommandModule = {
  usage: '--ipvs FILE --cluster FILE --node-name NAME --node-ip IP... [--hz N] [--format F] [--family IPv4|IPv6|dual] [--json] [--junit FILE]',
  description: `Proves kube-proxy programmed IPVS correctly on one node (offline mode): reads the node's
table from --ipvs (ipvsadm -Ln, ipvsadm -Sn or /proc/net/ip_vs), computes the table kube-proxy
should have programmed from --cluster (kubectl get services,endpointslices -A -o json), and
reports every difference grouped by Service port: missing or unexpected virtual servers and real
servers, scheduler, persistence and weight mismatches. Real servers left at weight 0 are
draining (a warning). Virtual servers nobody expects inside IPVS_EXCLUDE_CIDRS are left alone.

Exit status: 0 the table matches, 1 it does not, 2 bad input.
With --json: {"node", "families", "ok", "failures", "warnings", "counts", "kubeIpvs0Addresses",
"services": [{"service", "label", "virtualServers", "ok", "findings": [{"kind", "severity",
"virtualServer", "realServer", "expected", "actual", "message"}]}], "notes"}.
With --junit FILE: also writes JUnit XML (one testsuite per node, one testcase per Service port).`,
  options: {
    ipvs: { type: 'string', value: 'FILE', description: "the node's IPVS table: ipvsadm -Ln, ipvsadm -Sn or /proc/net/ip_vs output" },
    ...NODE_OPTIONS,
    hz: { type: 'string', value: 'N', description: "the node kernel's HZ, to read /proc/net/ip_vs persistence timeouts (jiffies) as seconds" },
    format: { type: 'string', value: 'FORMAT', description: `the form of --ipvs: ${IPVS_FORMATS.join(', ')} (default: detected)` },
    json: { type: 'boolean', description: 'print the result as JSON' },
    junit: { type: 'string', value: 'FILE', description: 'write the result as JUnit XML to FILE' },
  },
  settings: true,
  async run(io, commandLine) {
    const { values } = commandLine;
    const settings = settingsFor(io, commandLine).values;
    const node = nodeArguments(values);
    const families = familiesFor(values, settings.ipFamily);
    const junitFile = stringOption(values, 'junit');
    const table = readTableFile(io, values);
    const cluster = readClusterFiles(io, values);

    const started = performance.now();
    const check = checkNodeIpvs({
      cluster,
      table,
      node: { name: node.name, addresses: node.addresses, nodePortAddresses: settings.nodePortAddresses, scheduler: settings.scheduler },
      families,
      excludeCidrs: settings.excludeCidrs,
    });
    const elapsedSeconds = (performance.now() - started) / 1000;

    if (junitFile !== undefined) writeJunit(io, junitFile, renderJunit([check], { timeSeconds: { [check.node]: elapsedSeconds } }));
    io.out(flagOption(values, 'json') ? jsonText(ipvsCheckJson(check)) : formatIpvsReport(check));
    return check.diff.ok ? ExitCode.ok : ExitCode.failed;
  },
};

function readTableFile(io: Io, values: ParsedValues): IpvsTable {
  const file = stringOption(values, 'ipvs');
  if (file === undefined) throw usageError('--ipvs FILE is required', 'save the table on the node with `ipvsadm -Ln > ipvs.txt` (or ipvsadm -Sn, or cat /proc/net/ip_vs)');
  const hzText = stringOption(values, 'hz');
  if (hzText !== undefined && !/^[1-9]\d*$/.test(hzText)) {
    throw usageError(`--hz ${JSON.stringify(hzText)} is not a positive whole number`, 'the kernel HZ is one of 100, 250, 300 or 1000 (grep CONFIG_HZ= /boot/config-$(uname -r))');
  }
  const format = stringOption(values, 'format');
  if (format !== undefined && !(IPVS_FORMATS as readonly string[]).includes(format)) {
    throw usageError(`--format ${JSON.stringify(format)} is not valid`, `use one of: ${IPVS_FORMATS.join(', ')}`);
  }
  const text = readInputFile(io, '--ipvs', file);
  try {
    return readIpvsText(text, {
      ...(hzText === undefined ? {} : { hz: Number(hzText) }),
      ...(format === undefined ? {} : { format: format as IpvsSourceFormat }),
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

function writeJunit(io: Io, file: string, xml: string): void {
  try {
    writeFileSync(resolve(io.cwd, file), xml);
  } catch (error) {
    throw usageError(`--junit ${file}: cannot write (${(error as Error).message})`, 'give a path in an existing, writable folder');
  }
}
