// `local-up ipvs parse`: reads an IPVS table in any of its textual forms
// (ipvsadm -Ln, ipvsadm -Sn, /proc/net/ip_vs) and prints it normalised, so
// tables taken different ways can be compared, or as JSON for scripts.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ExitCode, LocalUpError, isLocalUpError, unavailableError, usageError } from '../../errors.js';
import type { IpvsDestination, IpvsService, IpvsTable } from '../../ipvs/model.js';
import { hostPort } from '../../ipvs/model.js';
import { ipvsFormatOption, readIpvsText } from '../../ipvs/read.js';
import { flagOption, stringOption } from '../args.js';
import { readStreamCapped, readTextFileCapped } from '../read-input.js';
import type { CommandModule } from '../command.js';
import type { Io } from '../../io/io.js';

/** Where the kernel shows the table; missing means IPVS is not loaded, not a typo. */
const PROC_IP_VS = '/proc/net/ip_vs';

export const command: CommandModule = {
  usage: '[FILE|-] [--json] [--format list|save|proc] [--hz N]',
  description: `Reads an IPVS table and prints it normalised: canonical addresses, services and
real servers sorted, persistence in seconds. FILE (or stdin for - or no FILE) holds the
output of \`ipvsadm -Ln\` (also -L without -n, --stats, --rate, --thresholds,
--persistent-conn, --tun-info), of \`ipvsadm -Sn\` (save format), or the text of
/proc/net/ip_vs; the form is detected unless --format is given. /proc shows persistence
in jiffies: --hz converts it to seconds. Words not understood are warnings on stderr
(and "unknown" in JSON), never fatal; ipvsadm's error messages and other IPVS outputs
(connections, timeouts) are refused with exit 2.`,
  options: {
    json: {
      type: 'boolean',
      description:
        'print JSON: {"format", "services": [{"protocol", "address", "port", "fwmark", "family", "scheduler", "flags", "persistent", "destinations": [{"address", "port", "forward", "weight", "activeConns", "inactiveConns"}]}], "absent", "unknown"}',
    },
    format: { type: 'string', value: 'FORM', description: 'the input form: list (ipvsadm -Ln), save (ipvsadm -Sn) or proc (/proc/net/ip_vs); default: detected' },
    hz: { type: 'string', value: 'N', description: "the kernel's HZ (100, 250, 300, 1000: CONFIG_HZ), to read /proc persistence jiffies as seconds" },
  },
  positionals: { min: 0, max: 1 },
  async run(io, commandLine) {
    const format = ipvsFormatOption(stringOption(commandLine.values, 'format'));
    const hz = parseHz(stringOption(commandLine.values, 'hz'));
    const file = commandLine.positionals[0];
    const { text, name } = await readInput(io, file);
    let table: IpvsTable;
    try {
      table = readIpvsText(text, { ...(hz === undefined ? {} : { hz }), ...(format === undefined ? {} : { format }) });
    } catch (error) {
      if (!isLocalUpError(error)) throw error;
      throw new LocalUpError(error.exitCode, `${name}: ${error.message}`, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        ...(error.details === undefined ? {} : { details: error.details }),
      });
    }
    if (text.trim() === '') io.err(`warning: ${name} is empty: read as an empty table\n`);
    if (hz !== undefined && table.format !== 'proc') io.err(`warning: --hz applies to /proc/net/ip_vs only; ${name} is ${table.format}\n`);
    for (const entry of table.unknown) io.err(`warning: ${name}: ${entry}\n`);
    // In pieces: a table of 400,000 virtual servers must not be built twice more as one string.
    for (const chunk of flagOption(commandLine.values, 'json') ? tableJsonChunks(table) : renderTableChunks(table)) io.out(chunk);
    return ExitCode.ok;
  },
};

function parseHz(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value <= 0) {
    throw usageError(`--hz ${text}: not a positive whole number`, "give the kernel's HZ (CONFIG_HZ): usually 100, 250, 300 or 1000");
  }
  return value;
}

async function readInput(io: Io, file: string | undefined): Promise<{ text: string; name: string }> {
  if (file === undefined || file === '-') {
    if (io.stdinIsTTY) {
      throw usageError('no input: give a FILE, or pipe the table in', 'e.g. `ipvsadm -Ln | local-up ipvs parse` or `local-up ipvs parse /proc/net/ip_vs`');
    }
    return { text: await readStreamCapped(process.stdin as AsyncIterable<Buffer>, 'stdin'), name: 'stdin' };
  }
  const path = resolve(io.cwd, file);
  try {
    return { text: readTextFileCapped(path, file), name: file };
  } catch (error) {
    if (isLocalUpError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path === PROC_IP_VS) {
      throw unavailableError(`${file}: no such file: IPVS is not loaded in this kernel (the file appears with the ip_vs module)`, {
        hint: 'load the IPVS modules with `local-up modules load` (as root), or run in the lab VM (`local-up lab`)',
      });
    }
    if (code === 'ENOENT') throw usageError(`${file}: no such file`, 'give the path of a file holding `ipvsadm -Ln` or `ipvsadm -Sn` output, or /proc/net/ip_vs');
    if (code === 'EISDIR') throw usageError(`${file}: is a directory, not a file`, 'give the path of a file holding an IPVS table');
    throw usageError(`${file}: cannot read: ${(error as Error).message}`, 'give the path of a readable file holding an IPVS table');
  }
}

/** Sort key of an address: IPv4 before IPv6 before names, each in numeric order. */
function addressSortKey(address: string | null): string {
  if (address === null) return '';
  const v4 = address.split('.');
  if (v4.length === 4 && v4.every((o) => /^[0-9]{1,3}$/.test(o))) return `4${v4.map((o) => o.padStart(3, '0')).join('')}`;
  if (address.includes(':')) {
    const [head = '', tail] = address.split('::');
    const left = head === '' ? [] : head.split(':');
    const right = tail === undefined || tail === '' ? [] : tail.split(':');
    const middle = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => '0');
    return `6${[...left, ...middle, ...right].map((g) => g.padStart(4, '0')).join('')}`;
  }
  return `9${address}`;
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const PROTOCOL_ORDER: Readonly<Record<string, number>> = { TCP: 0, UDP: 1, SCTP: 2, FWM: 3 };

function compareDestinations(a: IpvsDestination, b: IpvsDestination): number {
  return compareText(addressSortKey(a.address), addressSortKey(b.address)) || a.port - b.port;
}

/** The services in display order (references, not copies: tables can be large); each key computed once. */
function sortedServices(table: IpvsTable): IpvsService[] {
  const keyed = table.services.map((s) => ({ s, protocol: PROTOCOL_ORDER[s.protocol] ?? 9, address: addressSortKey(s.address) }));
  keyed.sort(
    (a, b) =>
      a.protocol - b.protocol ||
      (a.s.fwmark ?? 0) - (b.s.fwmark ?? 0) ||
      a.s.family - b.s.family ||
      compareText(a.address, b.address) ||
      (a.s.port ?? -1) - (b.s.port ?? -1),
  );
  return keyed.map((k) => k.s);
}

const sortedDestinations = (s: IpvsService): IpvsDestination[] => [...s.destinations].sort(compareDestinations);

function serviceJson(s: IpvsService, absent: ReadonlySet<string>): unknown {
  return {
    protocol: s.protocol,
    address: s.address,
    port: s.port,
    fwmark: s.fwmark,
    family: s.family,
    scheduler: s.scheduler,
    flags: s.flags,
    persistent: s.persistent,
    destinations: sortedDestinations(s).map((d) => ({
      address: d.address,
      port: d.port,
      forward: d.forward,
      weight: absent.has('weight') ? null : d.weight,
      activeConns: d.activeConns,
      inactiveConns: d.inactiveConns,
    })),
  };
}

/** The JSON document of --json; values of absent columns are null (weight) or "" (scheduler, forward). */
export function tableJson(table: IpvsTable): unknown {
  const absent = new Set(table.absent ?? []);
  return { format: table.format, absent: [...absent], services: sortedServices(table).map((s) => serviceJson(s, absent)), unknown: table.unknown };
}

/** The text of jsonText(tableJson(table)), a few hundred services at a time. */
export function* tableJsonChunks(table: IpvsTable, perChunk = 500): Generator<string> {
  const absent = new Set(table.absent ?? []);
  const indent = (value: unknown, pad: string) => JSON.stringify(value, null, 2).replaceAll('\n', `\n${pad}`);
  const services = sortedServices(table);
  let out = `{\n  "format": ${JSON.stringify(table.format)},\n  "absent": ${indent([...absent], '  ')},\n  "services": ${services.length === 0 ? '[]' : '['}`;
  for (let i = 0; i < services.length; i++) {
    out += `${i === 0 ? '' : ','}\n    ${indent(serviceJson(services[i] as IpvsService, absent), '    ')}`;
    if ((i + 1) % perChunk === 0) {
      yield out;
      out = '';
    }
  }
  yield `${out}${services.length === 0 ? '' : '\n  ]'},\n  "unknown": ${indent(table.unknown, '  ')}\n}\n`;
}

function serviceName(s: IpvsService): string {
  if (s.protocol === 'FWM') return `FWM  ${s.fwmark ?? '?'}${s.family === 6 ? ' IPv6' : ''}`;
  const address = s.address === null ? '?' : isIP(s.address) === 6 ? `[${s.address}]` : s.address;
  return `${s.protocol.padEnd(4)} ${address}:${s.port ?? '?'}`;
}

function serviceLine(s: IpvsService): string {
  const parts = [serviceName(s), s.scheduler === '' ? '-' : s.scheduler];
  const schedFlags = s.flags.filter((f) => f !== 'ops');
  if (schedFlags.length > 0) parts.push(`(${schedFlags.join(',')})`);
  if (s.persistent !== null) {
    const p = s.persistent;
    parts.push(`persistent ${p.timeout ?? '?'}${p.unit === 'jiffies' ? ' jiffies' : ''}`);
    if (p.netmask !== null) parts.push(`mask ${p.netmask}`);
    if (p.pe !== null) parts.push(`pe ${p.pe}`);
  }
  if (s.flags.includes('ops')) parts.push('ops');
  return parts.join(' ');
}

/** A normalised listing in ipvsadm's layout; "-" marks what the input form does not show. */
export function renderTable(table: IpvsTable): string {
  return [...renderTableChunks(table)].join('');
}

/** renderTable's text, a few hundred services at a time. */
export function* renderTableChunks(table: IpvsTable, perChunk = 500): Generator<string> {
  const absent = new Set(table.absent ?? []);
  const services = sortedServices(table);
  const destinationCount = services.reduce((n, s) => n + s.destinations.length, 0);
  const lines = [
    `# ${services.length} service${services.length === 1 ? '' : 's'}, ${destinationCount} real server${destinationCount === 1 ? '' : 's'} (read as ${table.format}; sorted)`,
  ];
  if (absent.size > 0) lines.push(`# not shown by this form: ${[...absent].join(', ')}`);
  lines.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  const count = (n: number | null): string => (n === null ? '-' : String(n));
  for (let i = 0; i < services.length; i++) {
    const s = services[i] as IpvsService;
    lines.push(serviceLine(s));
    for (const d of sortedDestinations(s)) {
      const weight = absent.has('weight') ? '-' : String(d.weight);
      lines.push(`  -> ${hostPort(d.address, d.port).padEnd(28)} ${(d.forward === '' ? '-' : d.forward).padEnd(7)} ${weight.padEnd(6)} ${count(d.activeConns).padEnd(10)} ${count(d.inactiveConns)}`);
    }
    if ((i + 1) % perChunk === 0) {
      yield `${lines.join('\n')}\n`;
      lines.length = 0;
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}
