// One entry point for every textual form of the IPVS table: detects the form
// (unless told) and hands the text to its reader.
import { usageError } from '../errors.js';
import type { IpvsSourceFormat, IpvsTable } from './model.js';
import { splitWords } from './read-common.js';
import { readIpvsadmListing } from './read-ipvsadm.js';
import { isProcAddressWord, readProcIpvs } from './read-proc.js';
import { readIpvsadmSave } from './read-save.js';

export { readIpvsadmListing } from './read-ipvsadm.js';
export { readIpvsadmSave } from './read-save.js';
export { readProcIpvs } from './read-proc.js';

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
    if (trimmed.startsWith('-A ') || trimmed.startsWith('-a ') || trimmed.startsWith('--add-service ') || trimmed.startsWith('--add-server ')) return 'ipvsadm-save';
    if (trimmed === PROC_REAL_SERVER_TITLE) return 'proc';
    const words = splitWords(trimmed);
    const addressWord = words[0] === '->' || words[0] === 'TCP' || words[0] === 'UDP' || words[0] === 'SCTP' ? words[1] : undefined;
    if (addressWord !== undefined && addressWord !== 'RemoteAddress:Port') return isProcAddressWord(addressWord) ? 'proc' : 'ipvsadm-list';
  }
  return sawAnyLine ? 'ipvsadm-list' : 'ipvsadm-save';
}

/**
 * Reads any textual form of the IPVS table: `ipvsadm -Ln` (and its variants), `ipvsadm -Sn`,
 * or /proc/net/ip_vs. Throws a LocalUpError (usage) when the text is ipvsadm's error output or
 * another IPVS output (connections, timeouts, counters) instead of a table.
 */
export function readIpvsText(text: string, options: { hz?: number; format?: IpvsSourceFormat } = {}): IpvsTable {
  if (options.hz !== undefined && !(Number.isInteger(options.hz) && options.hz > 0)) {
    throw usageError(`HZ must be a positive whole number, not ${options.hz}`, 'the kernel HZ is one of 100, 250, 300 or 1000 (CONFIG_HZ)');
  }
  const format = options.format ?? detectIpvsFormat(text);
  switch (format) {
    case 'ipvsadm-list':
      return readIpvsadmListing(text);
    case 'ipvsadm-save':
      return readIpvsadmSave(text);
    case 'proc':
      return readProcIpvs(text, options.hz === undefined ? {} : { hz: options.hz });
  }
}
