// Reads /proc/net/ip_vs (kernel ip_vs_ctl.c, ip_vs_info_seq_show; ipvsadm-formats.md §5):
// IPv4 addresses and all ports in hex (`C0A80016:0CEA`), IPv6 uncompressed
// (`[2620:0000:...:0001]:0050`), fwmarks in hex, hash order, trailing spaces.
// NOTE: the kernel keeps a service's persistence timeout in jiffies (svc->timeout =
// seconds * HZ) and prints it as is here; only the caller can know HZ.
import type { IpvsColumn, IpvsTable, Persistence } from './model.js';
import type { ServiceDraft } from './read-common.js';
import {
  KERNEL_FORWARD_METHODS,
  UnknownCollector,
  ipv4FromNumber,
  ipv6FromGroups,
  isHexDigits,
  makeTable,
  newServiceDraft,
  parseSigned,
  parseUnsigned,
  quoteLine,
  rejectNonTable,
  rejectOtherOutputs,
  serviceProtocol,
  splitWords,
} from './read-common.js';

export interface ReadProcOptions {
  /** The kernel's HZ (CONFIG_HZ: 100, 250, 300 or 1000): converts persistence from jiffies to seconds. */
  readonly hz?: number;
}

/** /proc shows no scheduler flags (sh-port...) and no persistence engine; IPv6 services never show "ops". */
const PROC_ABSENT: readonly IpvsColumn[] = ['flags', 'pe'];

/** `C0A80016:0CEA` → address and port; null when not that shape. */
function readHexIpv4(word: string): { address: string; port: number } | null {
  if (word.length !== 13 || word.charCodeAt(8) !== 58 || !isHexDigits(word, 0, 8) || !isHexDigits(word, 9, 13)) return null;
  return { address: ipv4FromNumber(Number.parseInt(word.slice(0, 8), 16)), port: Number.parseInt(word.slice(9), 16) };
}

/** `[2620:0000:0000:0000:0000:0000:0000:0001]:0050` → compressed address and port; null when not that shape. */
function readHexIpv6(word: string): { address: string; port: number } | null {
  // "[" + 8 groups of 4 hex digits and 7 colons (39) + "]:" + 4 hex digits
  if (word.length !== 46 || word[0] !== '[' || word[40] !== ']' || word[41] !== ':' || !isHexDigits(word, 42, 46)) return null;
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) {
    const start = 1 + g * 5;
    if (!isHexDigits(word, start, start + 4) || (g < 7 && word[start + 4] !== ':')) return null;
    groups.push(Number.parseInt(word.slice(start, start + 4), 16));
  }
  return { address: ipv6FromGroups(groups), port: Number.parseInt(word.slice(42), 16) };
}

function readHexAddressPort(word: string): { address: string; port: number; family: 4 | 6 } | null {
  const v4 = readHexIpv4(word);
  if (v4 !== null) return { address: v4.address, port: v4.port, family: 4 };
  const v6 = readHexIpv6(word);
  return v6 === null ? null : { address: v6.address, port: v6.port, family: 6 };
}

/** True when the word is an address as /proc/net/ip_vs prints it (used to detect the format). */
export const isProcAddressWord = (word: string): boolean => readHexIpv4(word) !== null || readHexIpv6(word) !== null;

/**
 * The persistence netmask: IPv4 as dotted text (/32 = default = null). For IPv6 the kernel keeps
 * the prefix length as a plain number and prints ntohl() of it, so little-endian hosts show it
 * byte-swapped (128 → 80000000): both readings are accepted.
 */
function readNetmask(hex: string | undefined, family: 4 | 6): string | null | undefined {
  if (hex === undefined || !isHexDigits(hex) || hex.length > 8) return undefined;
  const value = Number.parseInt(hex, 16);
  if (family === 4) return value === 0xffffffff ? null : ipv4FromNumber(value);
  const swapped = (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
  const prefix = value <= 128 ? value : swapped <= 128 ? swapped : null;
  if (prefix === null) return undefined;
  return prefix === 128 ? null : String(prefix);
}

interface PendingPersistence {
  readonly jiffies: number;
  readonly maskHex: string | undefined;
  readonly line: number;
}

/**
 * Reads the text of /proc/net/ip_vs. Persistence timeouts are seconds when `options.hz` is
 * given, else jiffies (`unit: 'jiffies'`). Throws a usage error for text that is not this table.
 */
export function readProcIpvs(text: string, options: ReadProcOptions = {}): IpvsTable {
  const hz = options.hz;
  const lines = text.split('\n');
  rejectOtherOutputs(lines);
  const unknown = new UnknownCollector();
  const drafts: ServiceDraft[] = [];
  // The family of an FWM service shows only through its real servers: masks are read at the end.
  const pending = new Map<ServiceDraft, PendingPersistence>();
  let current: ServiceDraft | null = null;
  let orphanReason = 'before any service line';
  let sawTable = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const words = splitWords(line);
    const first = words[0];
    if (first === undefined) continue;
    const lineNumber = i + 1;
    if (first === '->') {
      sawTable = true;
      if (words[1] === 'RemoteAddress:Port') continue;
      const target = readHexAddressPort(words[1] ?? '');
      const forward = words[2];
      const weight = parseSigned(words[3]);
      const active = parseUnsigned(words[4]);
      const inactive = parseUnsigned(words[5]);
      if (current === null) {
        unknown.add(lineNumber, `real server line ${orphanReason}: ${quoteLine(line)}`, `orphan:${orphanReason}`);
      } else if (target === null || forward === undefined || weight === null || active === null || inactive === null || words.length !== 6) {
        unknown.add(lineNumber, `real server line not understood: ${quoteLine(line)}`);
      } else {
        if (!KERNEL_FORWARD_METHODS.has(forward)) unknown.add(lineNumber, `forward method "${forward}" not known; kept as written`, `forward:${forward}`);
        if (target.family === 6 && current.protocol === 'FWM') current.family = 6;
        current.destinations.push({ address: target.address, port: target.port, forward, weight, activeConns: active, inactiveConns: inactive });
      }
      continue;
    }
    if ((first === 'IP' && words[1] === 'Virtual' && words[2] === 'Server') || (first === 'Prot' && words[1] === 'LocalAddress:Port')) {
      sawTable = true;
      continue;
    }
    let draft: ServiceDraft | null = null;
    const protocol = serviceProtocol(first);
    if (first === 'FWM' && words[1] !== undefined && words[1].length <= 8 && isHexDigits(words[1])) {
      draft = newServiceDraft({ protocol: 'FWM', address: null, port: null, fwmark: Number.parseInt(words[1], 16), family: 4 });
    } else if (protocol !== null) {
      const target = readHexAddressPort(words[1] ?? '');
      if (target !== null) draft = newServiceDraft({ protocol, address: target.address, port: target.port, fwmark: null, family: target.family });
    }
    if (draft === null || words[2] === undefined) {
      current = null;
      if (first.length <= 8 && words.length >= 3 && /^(?:ICMP|ICMPv6|IP|IP_\d+)$/.test(first)) {
        unknown.add(lineNumber, `service protocol "${first}" is not one IPVS balances by port (TCP, UDP, SCTP, FWM): skipped with its real servers`, `protocol:${first}`);
        orphanReason = `under a "${first}" service (skipped)`;
      } else {
        unknown.add(lineNumber, `line not understood: ${quoteLine(line)}`);
        orphanReason = 'after a line that was not understood (skipped)';
      }
      continue;
    }
    sawTable = true;
    draft.scheduler = words[2];
    for (let j = 3; j < words.length; j++) {
      const word = words[j];
      if (word === 'ops') {
        draft.flags.push('ops');
      } else if (word === 'persistent' && parseUnsigned(words[j + 1]) !== null) {
        pending.set(draft, { jiffies: parseUnsigned(words[j + 1]) ?? 0, maskHex: words[j + 2], line: lineNumber });
        j += 2;
      } else {
        unknown.add(lineNumber, `word "${word ?? ''}" after the scheduler not understood`, `service-word:${word ?? ''}`);
      }
    }
    drafts.push(draft);
    current = draft;
  }
  for (const [draft, p] of pending) draft.persistent = persistenceOf(p, draft.family, hz, unknown);
  if (!sawTable && unknown.size > 0) rejectNonTable(text, lines, 'proc');
  return makeTable('proc', drafts, unknown, PROC_ABSENT);
}

function persistenceOf(p: PendingPersistence, family: 4 | 6, hz: number | undefined, unknown: UnknownCollector): Persistence {
  const netmask = readNetmask(p.maskHex, family);
  if (netmask === undefined) unknown.add(p.line, `persistence netmask "${p.maskHex ?? ''}" not understood: reported as the default`, 'netmask');
  if (hz === undefined) return { timeout: p.jiffies, unit: 'jiffies', netmask: netmask ?? null, pe: null };
  const seconds = p.jiffies / hz;
  if (!Number.isInteger(seconds)) {
    unknown.add(p.line, `persistence of ${p.jiffies} jiffies is not a whole number of seconds at HZ=${hz}: is HZ right?`, 'hz');
  }
  return { timeout: seconds, unit: 'seconds', netmask: netmask ?? null, pe: null };
}
