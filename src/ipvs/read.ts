// One entry point for every textual form of the IPVS table: detects the form
// (unless told) and hands the text to its reader.
import { usageError } from '../errors.js';
import type { IpvsService, IpvsSourceFormat, IpvsTable } from './model.js';
import { hostPort } from './model.js';
import { isIpAddress, splitWords } from './read-common.js';
import { readIpvsadmListing } from './read-ipvsadm.js';
import { isProcAddressWord, readProcIpvs } from './read-proc.js';
import { readIpvsadmSave } from './read-save.js';

export { readIpvsadmListing } from './read-ipvsadm.js';
export { readIpvsadmSave } from './read-save.js';
export { readProcIpvs } from './read-proc.js';

export interface ReadIpvsOptions {
  /** The kernel's HZ, to turn /proc/net/ip_vs persistence jiffies into seconds. */
  readonly hz?: number;
  /** Skip detection: the text is known to be this form. */
  readonly format?: IpvsSourceFormat;
}

/** The words --format takes, in every command that reads an IPVS table. */
export const IPVS_FORMAT_WORDS: Readonly<Record<string, IpvsSourceFormat>> = { list: 'ipvsadm-list', save: 'ipvsadm-save', proc: 'proc' };
export const IPVS_FORMAT_HELP = 'list (ipvsadm -Ln), save (ipvsadm -Sn) or proc (/proc/net/ip_vs)';

/** The form a --format word names; undefined when no --format was given. */
export function ipvsFormatOption(word: string | undefined): IpvsSourceFormat | undefined {
  if (word === undefined) return undefined;
  const format = IPVS_FORMAT_WORDS[word];
  if (format === undefined) throw usageError(`--format ${word}: not a known form`, `use --format ${IPVS_FORMAT_HELP}`);
  return format;
}

const FORMAT_DESCRIPTIONS: Readonly<Record<IpvsSourceFormat, string>> = {
  'ipvsadm-list': 'an `ipvsadm -Ln` listing',
  'ipvsadm-save': 'ipvsadm save format (`ipvsadm -Sn`)',
  proc: '/proc/net/ip_vs text',
};

/** How many meaningful lines detection looks at before settling for a listing. */
const DETECTION_LINES = 50;

/** The title line /proc/net/ip_vs prints; ipvsadm pads `RemoteAddress:Port` to 28 characters. */
const PROC_REAL_SERVER_TITLE = '-> RemoteAddress:Port Forward Weight ActiveConn InActConn';

/**
 * Which form a text is: save lines start with `-A`/`-a`; /proc has hex addresses (and an unpadded
 * title); anything else is read as an ipvsadm listing. Empty text is the save form of an empty
 * table (the only form that prints nothing then).
 */
export function detectIpvsFormat(text: string): IpvsSourceFormat {
  return detectIpvsFormatWithEvidence(text).format;
}

/** The form, and whether a line proved it (rather than "nothing else fits, so a listing"). */
function detectIpvsFormatWithEvidence(text: string): { format: IpvsSourceFormat; proven: boolean } {
  let seen = 0;
  let start = 0;
  let sawAnyLine = false;
  while (start <= text.length && seen < DETECTION_LINES) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    sawAnyLine = true;
    seen++;
    if (trimmed.startsWith('-A ') || trimmed.startsWith('-a ') || trimmed.startsWith('--add-service ') || trimmed.startsWith('--add-server ')) return { format: 'ipvsadm-save', proven: true };
    if (trimmed === PROC_REAL_SERVER_TITLE) return { format: 'proc', proven: true };
    const words = splitWords(trimmed);
    const addressWord = words[0] === '->' || words[0] === 'TCP' || words[0] === 'UDP' || words[0] === 'SCTP' ? words[1] : undefined;
    if (addressWord !== undefined && addressWord !== 'RemoteAddress:Port') return { format: isProcAddressWord(addressWord) ? 'proc' : 'ipvsadm-list', proven: true };
  }
  return { format: sawAnyLine ? 'ipvsadm-list' : 'ipvsadm-save', proven: false };
}

/**
 * Reads any textual form of the IPVS table: `ipvsadm -Ln` (and its variants), `ipvsadm -Sn`,
 * or /proc/net/ip_vs. Throws a LocalUpError (usage) when the text is ipvsadm's error output or
 * another IPVS output (connections, timeouts, counters) instead of a table.
 */
export function readIpvsText(text: string, options: ReadIpvsOptions = {}): IpvsTable {
  if (options.hz !== undefined && !(Number.isInteger(options.hz) && options.hz > 0)) {
    throw usageError(`HZ must be a positive whole number, not ${options.hz}`, 'the kernel HZ is one of 100, 250, 300 or 1000 (CONFIG_HZ)');
  }
  const detected = detectIpvsFormatWithEvidence(text);
  if (options.format !== undefined && detected.proven && detected.format !== options.format) {
    throw usageError(`not ${FORMAT_DESCRIPTIONS[options.format]}: the text is ${FORMAT_DESCRIPTIONS[detected.format]}`, 'leave --format out to detect the form, or give the one that fits');
  }
  const table = readAs(options.format ?? detected.format, text, options.hz);
  rejectDuplicates(table);
  return table;
}

function readAs(format: IpvsSourceFormat, text: string, hz: number | undefined): IpvsTable {
  switch (format) {
    case 'ipvsadm-list':
      return readIpvsadmListing(text);
    case 'ipvsadm-save':
      return readIpvsadmSave(text);
    case 'proc':
      return readProcIpvs(text, hz === undefined ? {} : { hz });
  }
}

const serviceKey = (s: IpvsService): string => (s.protocol === 'FWM' ? `FWM/${s.fwmark ?? '?'}/IPv${s.family}` : `${s.protocol}/${hostPort(s.address ?? '?', s.port ?? 0)}`);

/** NOTE: a kernel's table holds each virtual server once, and each real server once per virtual server; twice means two tables joined. */
function rejectDuplicates(table: IpvsTable): void {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const service of table.services) {
    // Names (ipvsadm -L without -n) are truncated to the column and may collide: only numeric entries are judged.
    if (service.protocol !== 'FWM' && (service.address === null || !isIpAddress(service.address) || service.port === null)) continue;
    const key = serviceKey(service);
    if (seen.has(key)) twice.push(`virtual server ${key}`);
    seen.add(key);
    const real = new Set<string>();
    for (const d of service.destinations) {
      if (!isIpAddress(d.address)) continue;
      const dkey = hostPort(d.address, d.port);
      if (real.has(dkey)) twice.push(`real server ${dkey} of ${key}`);
      real.add(dkey);
    }
  }
  if (twice.length === 0) return;
  const shown = twice.slice(0, 5).join(', ');
  throw usageError(
    `${twice.length === 1 ? 'this is' : 'these are'} listed twice: ${shown}${twice.length > 5 ? ` and ${twice.length - 5} more` : ''}; one IPVS table lists each once`,
    'give the table of one node, taken once (were two listings joined together?)',
  );
}
