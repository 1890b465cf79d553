// Pieces shared by the three readers of the IPVS table (ipvsadm listing,
// ipvsadm save format, /proc/net/ip_vs): word splitting, number and
// address:port words, drafts of services, the collector of words not
// understood, and the checks that the text is a service table at all.
// NOTE: the readers get tables of 40,000 lines: everything here is linear,
// works on one line at a time and uses no backtracking regular expressions.
import { isIP } from 'node:net';
import { ExitCode, LocalUpError, usageError } from '../errors.js';
import { ipv4Number } from '../kube/ip.js';
import { diagnoseIpvsadmText } from './ipvsadm-errors.js';
import type { IpvsColumn, IpvsDestination, IpvsProtocol, IpvsService, IpvsSourceFormat, IpvsTable, Persistence } from './model.js';

/** Splits a line on runs of spaces, tabs and carriage returns; never returns empty words. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      if (start >= 0) {
        words.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(line.slice(start));
  return words;
}

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
const isHexCode = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** True for a non-empty run of decimal digits. */
export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigitCode(text.charCodeAt(i))) return false;
  return true;
}

/** True for a non-empty run of hex digits (either case). */
export function isHexDigits(text: string, from = 0, to = text.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!isHexCode(text.charCodeAt(i))) return false;
  return true;
}

/** A non-negative decimal integer, or null (no sign, no spaces, at most 15 digits). */
export function parseUnsigned(text: string | undefined): number | null {
  if (text === undefined || text.length > 15 || !isDigits(text)) return null;
  return Number(text);
}

/** A decimal integer with an optional leading minus (ipvsadm prints weights with %d), or null. */
export function parseSigned(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (text.startsWith('-')) {
    const value = parseUnsigned(text.slice(1));
    return value === null ? null : -value;
  }
  return parseUnsigned(text);
}

/** A port written in decimal (0-65535), or null. */
export function parsePort(text: string): number | null {
  const value = parseUnsigned(text);
  return value !== null && value <= 65_535 ? value : null;
}

/**
 * Service names that getservbyport(3) gives for ports likely to sit behind IPVS (Debian's
 * netbase /etc/services). Only non-numeric listings (`ipvsadm -L` without -n) print them.
 */
const SERVICE_PORTS: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['smtp', 25], ['domain', 53], ['tftp', 69],
  ['gopher', 70], ['finger', 79], ['http', 80], ['www', 80], ['kerberos', 88], ['pop3', 110], ['sunrpc', 111],
  ['nntp', 119], ['ntp', 123], ['imap2', 143], ['imap', 143], ['snmp', 161], ['snmp-trap', 162], ['bgp', 179],
  ['ldap', 389], ['https', 443], ['microsoft-ds', 445], ['syslog', 514], ['shell', 514], ['printer', 515],
  ['rtsp', 554], ['submission', 587], ['ldaps', 636], ['domain-s', 853], ['rsync', 873], ['imaps', 993],
  ['pop3s', 995], ['openvpn', 1194], ['ms-sql-s', 1433], ['radius', 1812], ['radius-acct', 1813], ['nfs', 2049],
  ['iscsi-target', 3260], ['mysql', 3306], ['munin', 4949], ['sip', 5060], ['sip-tls', 5061],
  ['xmpp-client', 5222], ['mdns', 5353], ['postgresql', 5432], ['amqps', 5671], ['amqp', 5672], ['x11', 6000],
  ['redis', 6379], ['mysql-proxy', 6446], ['syslog-tls', 6514], ['ircd', 6667], ['http-alt', 8080],
  ['webcache', 8080], ['tproxy', 8081], ['bacula-dir', 9101], ['bacula-fd', 9102], ['bacula-sd', 9103],
]);

/** The port for a service name printed by a non-numeric listing, or null when not known. */
export const portForServiceName = (name: string): number | null => SERVICE_PORTS.get(name) ?? null;

/** An `address:port` word split in two; `[v6]:port` loses its brackets. */
export interface AddressPortWord {
  readonly host: string;
  /** Text after the last colon (after `]:` when bracketed); null when there is no port part. */
  readonly portText: string | null;
  readonly bracketed: boolean;
}

export function splitAddressPort(word: string): AddressPortWord {
  if (word.startsWith('[')) {
    const close = word.indexOf(']');
    if (close < 0) return { host: word.slice(1), portText: null, bracketed: true };
    const rest = word.slice(close + 1);
    return { host: word.slice(1, close), portText: rest.startsWith(':') ? rest.slice(1) : null, bracketed: true };
  }
  const colon = word.lastIndexOf(':');
  if (colon < 0) return { host: word, portText: null, bracketed: false };
  return { host: word.slice(0, colon), portText: word.slice(colon + 1), bracketed: false };
}

/** Dotted text of an IPv4 address given as the 32-bit number /proc prints in hex. */
export function ipv4FromNumber(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 text of an IPv6 address given as 8 groups: lower case, longest zero run (2+) as `::`. */
export function ipv6FromGroups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** A persistence netmask as the model keeps it: null for the default (/32 or /128). */
export function normaliseNetmask(mask: string | null, family: 4 | 6): string | null {
  if (mask === null) return null;
  if (family === 4) return mask === '255.255.255.255' ? null : mask;
  return mask === '128' ? null : mask;
}

/** A service while its lines are being read; finished into an IpvsService at the end. */
export interface ServiceDraft {
  protocol: IpvsProtocol;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  family: 4 | 6;
  scheduler: string;
  flags: string[];
  persistent: Persistence | null;
  destinations: IpvsDestination[];
}

export function newServiceDraft(fields: Pick<ServiceDraft, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>): ServiceDraft {
  // Spelled out (no spread) so every draft has one object shape: 10,000 of them must stay cheap.
  return {
    protocol: fields.protocol,
    address: fields.address,
    port: fields.port,
    fwmark: fields.fwmark,
    family: fields.family,
    scheduler: '',
    flags: [],
    persistent: null,
    destinations: [],
  };
}

/** The protocols of a kernel IPVS service line (FWM is handled apart). */
export function serviceProtocol(word: string): Exclude<IpvsProtocol, 'FWM'> | null {
  return word === 'TCP' || word === 'UDP' || word === 'SCTP' ? word : null;
}

/** Forward methods the kernel knows; anything else comes from an ipvsadm fork. */
export const KERNEL_FORWARD_METHODS: ReadonlySet<string> = new Set(['Masq', 'Local', 'Route', 'Tunnel']);

/** Most distinct entries kept in `unknown`; the rest are counted in one last entry. */
const MAX_UNKNOWN_ENTRIES = 200;

/**
 * Collects what a reader did not understand. Entries with the same key (the same odd word on
 * many lines) are reported once, with the first line number and a count, so a 10,000-service
 * table from a fork yields a short list.
 */
export class UnknownCollector {
  private readonly entries = new Map<string, { line: number; text: string; count: number }>();
  private dropped = 0;

  /** `line` is 1-based; `key` groups repeats (defaults to the text). */
  add(line: number, text: string, key: string = text): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.count++;
    } else if (this.entries.size < MAX_UNKNOWN_ENTRIES) {
      this.entries.set(key, { line, text, count: 1 });
    } else {
      this.dropped++;
    }
  }

  get size(): number {
    return this.entries.size + this.dropped;
  }

  list(): string[] {
    const out = [...this.entries.values()].map(
      (e) => `line ${e.line}: ${e.text}${e.count > 1 ? ` (and ${e.count - 1} more line${e.count > 2 ? 's' : ''} like it)` : ''}`,
    );
    if (this.dropped > 0) out.push(`${this.dropped} more lines not understood (not listed)`);
    return out;
  }
}

/** Quotes a line for a message, shortened so one odd line cannot flood the output. */
export function quoteLine(line: string, max = 120): string {
  const trimmed = line.trim();
  return JSON.stringify(trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed);
}

const TABLE_FORMS_HINT = 'give the output of `ipvsadm -Ln`, `ipvsadm -Sn` or the text of /proc/net/ip_vs';

/** Other IPVS outputs that are not the service table, recognised by their first line. */
const OTHER_OUTPUTS: readonly { readonly test: (trimmed: string) => boolean; readonly what: string }[] = [
  { test: (t) => t.startsWith('IPVS connection entries') || t.startsWith('pro expire state'), what: 'the IPVS connection table (`ipvsadm -Lnc`)' },
  { test: (t) => t.startsWith('Pro FromIP'), what: 'the IPVS connection table from /proc/net/ip_vs_conn' },
  { test: (t) => t.startsWith('Timeout (tcp tcpfin udp)'), what: 'the IPVS timeouts (`ipvsadm -L --timeout`)' },
  { test: (t) => t.startsWith('Total Incoming Outgoing'), what: 'IPVS counters from /proc/net/ip_vs_stats or ip_vs_stats_percpu' },
  { test: (t) => t.startsWith('master sync daemon') || t.startsWith('backup sync daemon'), what: 'the IPVS sync daemons (`ipvsadm -L --daemon`)' },
  { test: (t) => t.startsWith('ipvsadm v'), what: "ipvsadm's version or help text" },
];

/** The index of the first line that is neither blank nor a `#` comment, or -1. */
export function firstMeaningfulLine(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) return i;
  }
  return -1;
}

/** Throws a usage error when the text is another IPVS output (connections, timeouts, counters). */
export function rejectOtherOutputs(lines: readonly string[]): void {
  const index = firstMeaningfulLine(lines);
  if (index < 0) return;
  const trimmed = (lines[index] ?? '').trim();
  const other = OTHER_OUTPUTS.find((o) => o.test(trimmed));
  if (other !== undefined) {
    throw usageError(`the input is ${other.what}, not the IPVS service table (line ${index + 1}: ${quoteLine(trimmed)})`, TABLE_FORMS_HINT);
  }
}

/**
 * Called when a reader found no table at all (no header, service or real-server line): the text
 * is ipvsadm's error output, or something else. Either way an empty table would be a lie.
 */
export function rejectNonTable(text: string, lines: readonly string[], format: IpvsSourceFormat): never {
  const diagnosis = diagnoseIpvsadmText(text);
  const first = firstMeaningfulLine(lines);
  if (diagnosis !== null) {
    throw new LocalUpError(ExitCode.usage, `the input is ipvsadm's error output, not an IPVS table: ${diagnosis.message}`, {
      hint: diagnosis.hint,
      details: lines.slice(Math.max(0, first), Math.max(0, first) + 6).join('\n'),
    });
  }
  const names: Record<IpvsSourceFormat, string> = { 'ipvsadm-list': 'an `ipvsadm -Ln` listing', 'ipvsadm-save': 'ipvsadm save format (`ipvsadm -Sn`)', proc: 'the text of /proc/net/ip_vs' };
  throw usageError(
    `the input is not ${names[format]}: no header, service or real-server line found (line ${first + 1}: ${quoteLine(lines[first] ?? '')})`,
    TABLE_FORMS_HINT,
  );
}

/** Builds the table a reader returns. */
export function makeTable(format: IpvsSourceFormat, drafts: readonly ServiceDraft[], unknown: UnknownCollector, absent: Iterable<IpvsColumn>): IpvsTable {
  const services: readonly IpvsService[] = drafts;
  return { format, services, unknown: unknown.list(), absent: [...new Set(absent)] };
}

/**
 * True when the word is an IP address of either family (no brackets). NOTE (speed): plain IPv4, nearly
 * every address of a table, skips the regex behind isIP (ipv4Number accepts exactly the texts it does).
 */
export const isIpAddress = (text: string): boolean => ipv4Number(text) >= 0 || isIP(text) !== 0;
