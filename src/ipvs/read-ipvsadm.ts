// Reads `ipvsadm -L` listings (ipvsadm-formats.md §2-3): `-Ln` first, but also
// non-numeric `-L` (best effort), one-service `-t` listings and fragments without
// headers, and the --stats/--rate/--thresholds/--persistent-conn/--tun-info
// layouts. Lines are split on runs of spaces, never cut at column positions:
// long IPv6 addresses push the columns right, and trailing padding may be lost.
import type { IpvsColumn, IpvsTable } from './model.js';
import { canonicalAddress } from '../kube/ip.js';
import type { ServiceDraft } from './read-common.js';
import {
  KERNEL_FORWARD_METHODS,
  UnknownCollector,
  isDigits,
  isIpAddress,
  makeTable,
  newServiceDraft,
  normaliseNetmask,
  parsePort,
  parseSigned,
  parseUnsigned,
  portForServiceName,
  quoteLine,
  rejectNonTable,
  rejectOtherOutputs,
  serviceProtocol,
  splitAddressPort,
  splitWords,
} from './read-common.js';

/** `TCP 00:37  SYN_RECV  source virtual destination`: protocol, MM:SS expiry (minutes may pass 99), state, three addresses. */
function isConnectionEntry(words: readonly string[]): boolean {
  const expire = words[1];
  if (words.length < 6 || expire === undefined) return false;
  const colon = expire.indexOf(':');
  return colon > 0 && expire.length - colon === 3 && isDigits(expire.slice(0, colon)) && isDigits(expire.slice(colon + 1));
}

/** Which columns the listing shows, from its title lines (or guessed from the rows). */
export type IpvsadmListingLayout = 'standard' | 'tun-info' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn';

/** ipvsadm cuts IPv4 service names (protocol + address:port) at 33 characters, real servers at 28. */
const SERVICE_NAME_CUT = 33;
const REAL_SERVER_NAME_CUT = 28;

/** What each layout lacks of the model. */
const ABSENT_BY_LAYOUT: Record<IpvsadmListingLayout, readonly IpvsColumn[]> = {
  standard: [],
  'tun-info': [],
  stats: ['scheduler', 'flags', 'pe', 'persistence', 'forward', 'weight', 'connections'],
  rate: ['scheduler', 'flags', 'pe', 'persistence', 'forward', 'weight', 'connections'],
  thresholds: ['forward', 'weight'],
  'persistent-conn': ['forward'],
};

/** A --stats/--rate counter: digits with an optional K/M/G/T suffix (print_largenum). */
function isCounter(word: string | undefined): boolean {
  if (word === undefined || word.length === 0) return false;
  const last = word.charCodeAt(word.length - 1);
  const suffixed = last === 75 || last === 77 || last === 71 || last === 84; // K M G T
  return isDigits(suffixed ? word.slice(0, -1) : word);
}

function layoutFromTitle(words: readonly string[]): IpvsadmListingLayout | null {
  switch (words[2]) {
    case 'Scheduler':
      return 'standard';
    case 'Conns':
      return 'stats';
    case 'CPS':
      return 'rate';
    case 'Uthreshold':
      return 'thresholds';
    case 'Weight':
      return 'persistent-conn';
    default:
      return null;
  }
}

interface ListingState {
  readonly unknown: UnknownCollector;
  readonly absent: Set<IpvsColumn>;
  layout: IpvsadmListingLayout | null;
}

/** Address and port of a service or real server word, with notes on names and cuts. */
function readAddressPort(
  word: string,
  lineNumber: number,
  state: ListingState,
  cut: { readonly wordLength: number; readonly limit: number } | null,
): { address: string; port: number | null; family: 4 | 6 } {
  const { host, portText, bracketed } = splitAddressPort(word);
  const address = canonicalAddress(host);
  const numeric = isIpAddress(address);
  const family: 4 | 6 = bracketed ? 6 : 4;
  if (!numeric) {
    state.unknown.add(lineNumber, `"${host}" is not an IP address (a host name from a listing without -n, or redacted); kept as written`, 'host-name');
  }
  if (!numeric && !bracketed && cut !== null && word.length >= cut.wordLength) {
    state.unknown.add(lineNumber, `"${word}" may be cut at ipvsadm's ${cut.limit}-character limit for names; list with -n for exact results`, `name-cut:${cut.limit}`);
  }
  // A missing port is reported by the caller, which knows what it does about it.
  if (portText === null || portText === '') return { address, port: null, family };
  const decimal = parsePort(portText);
  if (decimal !== null) return { address, port: decimal, family };
  const named = portForServiceName(portText);
  if (named !== null) {
    state.unknown.add(lineNumber, `port name "${portText}" read as ${named} (list with -n for numbers)`, `port-name:${portText}`);
    return { address, port: named, family };
  }
  state.unknown.add(lineNumber, `port "${portText}" is neither a number nor a known service name`, `port-unknown:${portText}`);
  return { address, port: null, family };
}

/** Reads the words after the scheduler: `(flags)`, `persistent N`, `mask X`, `pe NAME`, `ops`. */
function readServiceOptions(words: readonly string[], from: number, draft: ServiceDraft, lineNumber: number, state: ListingState): void {
  let timeout: number | null = null;
  let persistent = false;
  let mask: string | null = null;
  let pe: string | null = null;
  for (let j = from; j < words.length; j++) {
    const word = words[j] ?? '';
    if (word.startsWith('(') && word.endsWith(')')) {
      for (const flag of word.slice(1, -1).split(',')) if (flag !== '') draft.flags.push(flag);
    } else if (word === 'ops') {
      draft.flags.push('ops');
    } else if (word === 'persistent') {
      persistent = true;
      timeout = parseUnsigned(words[j + 1]);
      if (timeout === null) state.unknown.add(lineNumber, `"persistent" without a number of seconds`, 'persistent-no-number');
      else j++;
    } else if ((word === 'mask' || word === 'pe') && words[j + 1] !== undefined) {
      if (word === 'mask') mask = words[j + 1] ?? null;
      else pe = words[j + 1] ?? null;
      j++;
    } else {
      state.unknown.add(lineNumber, `word "${word}" after the scheduler not understood`, `service-word:${word}`);
    }
  }
  if (persistent || mask !== null || pe !== null) {
    draft.persistent = { timeout, unit: 'seconds', netmask: normaliseNetmask(mask, draft.family), pe };
  }
}

/** A service line; null when it cannot be read (the caller reports the line). */
function readServiceLine(words: readonly string[], lineNumber: number, state: ListingState): ServiceDraft | null {
  const first = words[0] ?? '';
  let draft: ServiceDraft;
  let next: number;
  if (first === 'FWM') {
    const mark = parseUnsigned(words[1]);
    if (mark === null) return null;
    const ipv6 = words[2] === 'IPv6';
    draft = newServiceDraft({ protocol: 'FWM', address: null, port: null, fwmark: mark, family: ipv6 ? 6 : 4 });
    next = ipv6 ? 3 : 2;
  } else {
    const protocol = serviceProtocol(first);
    const addressWord = words[1];
    if (protocol === null || addressWord === undefined) return null;
    // The 33 characters include the protocol padded to 4 and a space.
    const cut = { wordLength: SERVICE_NAME_CUT - 5, limit: SERVICE_NAME_CUT };
    const { address, port, family } = readAddressPort(addressWord, lineNumber, state, cut);
    if (port === null) state.unknown.add(lineNumber, `service "${addressWord}" has no readable port (cut off by ipvsadm's name limit?): port reported as null`, 'service-port-null');
    draft = newServiceDraft({ protocol, address, port, fwmark: null, family });
    next = 2;
  }
  const layout = state.layout;
  const statsRow = layout === 'stats' || layout === 'rate' || ((layout === null || layout === 'standard') && isCounter(words[next]));
  if (statsRow) {
    // --stats/--rate rows: five counters instead of the scheduler and its options.
    if (words.length - next !== 5 || !words.slice(next).every(isCounter)) return null;
    for (const column of ABSENT_BY_LAYOUT.stats) state.absent.add(column);
    return draft;
  }
  const scheduler = words[next];
  if (scheduler === undefined) return null;
  draft.scheduler = scheduler;
  readServiceOptions(words, next + 1, draft, lineNumber, state);
  return draft;
}

/** A real-server line (`-> addr:port ...`); false when it cannot be read (the caller reports the line). */
function readRealServerLine(words: readonly string[], lineNumber: number, service: ServiceDraft, state: ListingState): boolean {
  const addressWord = words[1];
  if (addressWord === undefined) return false;
  const count = words.length - 2;
  let layout = state.layout ?? 'standard';
  // Without title lines (fragments), the row's shape tells the layout apart.
  if (state.layout === null || state.layout === 'standard' || state.layout === 'tun-info') {
    if (count === 5 && isCounter(words[2])) layout = 'stats';
    else if (count === 5) layout = 'tun-info';
    else if (count === 4 && isCounter(words[2])) return false; // --thresholds or --persistent-conn: cannot tell without titles
    else layout = 'standard';
  }
  let forward = '';
  let weight: number | null = 0;
  let active: number | null = null;
  let inactive: number | null = null;
  switch (layout) {
    case 'standard':
      if (count !== 4) return false;
      forward = words[2] ?? '';
      weight = parseSigned(words[3]);
      active = parseUnsigned(words[4]);
      inactive = parseUnsigned(words[5]);
      if (active === null || inactive === null) return false;
      break;
    case 'tun-info':
      if (count !== 5) return false;
      forward = words[2] ?? '';
      weight = parseSigned(words[4]);
      active = parseUnsigned(words[5]);
      inactive = parseUnsigned(words[6]);
      if (active === null || inactive === null) return false;
      break;
    case 'stats':
    case 'rate':
      if (count !== 5 || !words.slice(2).every(isCounter)) return false;
      break;
    case 'thresholds':
      if (count !== 4) return false;
      active = parseUnsigned(words[4]);
      inactive = parseUnsigned(words[5]);
      if (parseUnsigned(words[2]) === null || parseUnsigned(words[3]) === null || active === null || inactive === null) return false;
      break;
    case 'persistent-conn':
      if (count !== 4) return false;
      weight = parseSigned(words[2]);
      active = parseUnsigned(words[4]);
      inactive = parseUnsigned(words[5]);
      if (parseUnsigned(words[3]) === null || active === null || inactive === null) return false;
      break;
  }
  if (weight === null) return false;
  for (const column of ABSENT_BY_LAYOUT[layout]) state.absent.add(column);
  if (forward !== '' && !KERNEL_FORWARD_METHODS.has(forward)) {
    state.unknown.add(lineNumber, `forward method "${forward}" is not one the kernel has (Masq, Local, Route, Tunnel): from an ipvsadm fork? kept as written`, `forward:${forward}`);
  }
  const { address, port } = readAddressPort(addressWord, lineNumber, state, { wordLength: REAL_SERVER_NAME_CUT, limit: REAL_SERVER_NAME_CUT });
  if (port === null) state.unknown.add(lineNumber, `real server "${addressWord}" has no readable port: reported as port 0`, 'real-server-port-0');
  service.destinations.push({ address, port: port ?? 0, forward, weight, activeConns: active, inactiveConns: inactive });
  return true;
}

/**
 * Reads an `ipvsadm -L` listing (best with -n). Throws a usage error when the text is another
 * ipvsadm output (connections, timeouts) or ipvsadm's error message rather than a table.
 */
export function readIpvsadmListing(text: string): IpvsTable {
  const lines = text.split('\n');
  rejectOtherOutputs(lines);
  const state: ListingState = { unknown: new UnknownCollector(), absent: new Set(), layout: null };
  const drafts: ServiceDraft[] = [];
  let current: ServiceDraft | null = null;
  // After a line that was not understood, its real servers must not join the previous service.
  let orphanReason: string | null = 'before any service line';
  let sawTable = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const words = splitWords(line);
    const first = words[0];
    if (first === undefined) continue;
    const lineNumber = i + 1;
    if (first === '->') {
      sawTable = true;
      if (words[1] === 'RemoteAddress:Port') {
        if (words[3] === 'TunnelInfo') state.layout = 'tun-info';
        continue;
      }
      if (current === null) {
        state.unknown.add(lineNumber, `real server line ${orphanReason ?? 'without a service'}: ${quoteLine(line)}`, `orphan:${orphanReason ?? ''}`);
      } else if (!readRealServerLine(words, lineNumber, current, state)) {
        state.unknown.add(lineNumber, `real server line not understood: ${quoteLine(line)}`);
      }
      continue;
    }
    if (first === 'IP' && words[1] === 'Virtual' && words[2] === 'Server') {
      sawTable = true;
      continue;
    }
    if (first === 'Prot' && words[1] === 'LocalAddress:Port') {
      sawTable = true;
      state.layout = layoutFromTitle(words) ?? state.layout;
      if (layoutFromTitle(words) === null) state.unknown.add(lineNumber, `title line not understood: ${quoteLine(line)}`);
      continue;
    }
    if (isConnectionEntry(words)) {
      // `ipvsadm -Lnc` rows (grep'd without their header) would otherwise read as odd services.
      current = null;
      state.unknown.add(lineNumber, `a connection entry (ipvsadm -Lnc), not a service: ${quoteLine(line)}`, 'connection-entry');
      orphanReason = 'after a connection entry (skipped)';
      continue;
    }
    const draft = readServiceLine(words, lineNumber, state);
    if (draft !== null) {
      sawTable = true;
      drafts.push(draft);
      current = draft;
      continue;
    }
    current = null;
    if (serviceProtocol(first) !== null || first === 'FWM') {
      state.unknown.add(lineNumber, `service line not understood: ${quoteLine(line)}`);
      orphanReason = 'under a service line that was not understood (skipped)';
    } else if ((first === '?' || /^[A-Z]+$/.test(first)) && words.length >= 3) {
      // Forks print their own service types (DPVS: `MATCH icmp,from=...,oif=dpdk1 rr`); ipvsadm prints "?" for a protocol it cannot name.
      state.unknown.add(lineNumber, `service type "${first}" is not TCP, UDP, SCTP or FWM (an ipvsadm fork's own type, or "?" for a protocol ipvsadm cannot name): skipped with its real servers: ${quoteLine(line)}`);
      orphanReason = `under a "${first}" service (skipped)`;
    } else {
      state.unknown.add(lineNumber, `line not understood: ${quoteLine(line)}`);
      orphanReason = 'after a line that was not understood (skipped)';
    }
  }
  if (!sawTable && state.unknown.size > 0) rejectNonTable(text, lines, 'ipvsadm-list');
  const absent = new Set(state.absent);
  if (state.layout !== null) for (const column of ABSENT_BY_LAYOUT[state.layout]) absent.add(column);
  return makeTable('ipvsadm-list', drafts, state.unknown, absent);
}
