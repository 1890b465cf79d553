// Reads ipvsadm's save format (`ipvsadm -S -n`, ipvsadm-save, /etc/ipvsadm.rules;
// ipvsadm-formats.md §4): `-A` lines for services, `-a` lines for real servers.
// The format carries no connection counters, so those are null.
import type { IpvsColumn, IpvsTable } from './model.js';
import { canonicalAddress } from '../kube/ip.js';
import type { ServiceDraft } from './read-common.js';
import {
  UnknownCollector,
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
  splitAddressPort,
  splitWords,
} from './read-common.js';

/** ipvsadm's defaults when a rule line leaves an option out (`ipvsadm -R` applies the same). */
const DEFAULT_SCHEDULER = 'wlc';
const DEFAULT_PERSISTENCE_SECONDS = 300;
const DEFAULT_WEIGHT = 1;
/** `-a` without a forwarding switch means direct routing (`-g`). */
const DEFAULT_FORWARD = 'Route';

const SERVICE_SWITCHES: Readonly<Record<string, 'TCP' | 'UDP' | 'SCTP' | 'FWM'>> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
  '-f': 'FWM',
  '--fwmark-service': 'FWM',
};

/** `-g` is printed for both Route and Local real servers; the model reports "Route". */
const FORWARD_SWITCHES: Readonly<Record<string, string>> = {
  '-m': 'Masq',
  '--masquerading': 'Masq',
  '-g': 'Route',
  '--gatewaying': 'Route',
  '-i': 'Tunnel',
  '--ipip': 'Tunnel',
};

/** Options understood and deliberately not kept (the model has no place for them): name → takes a value. */
const IGNORED_OPTIONS: Readonly<Record<string, boolean>> = {
  '-x': true,
  '--u-threshold': true,
  '-y': true,
  '--l-threshold': true,
  '--tun-type': true,
  '--tun-port': true,
  '--tun-nocsum': false,
  '--tun-csum': false,
  '--tun-remcsum': false,
};

interface RuleWords {
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM' | null;
  target: string | null;
  ipv6: boolean;
  scheduler: string | null;
  persistent: boolean;
  timeout: number | null;
  netmask: string | null;
  pe: string | null;
  schedFlags: string[];
  ops: boolean;
  realServer: string | null;
  forward: string | null;
  weight: number | null;
}

/** Reads the option words of one rule line (after `-A`/`-a`). */
function readRuleWords(words: readonly string[], lineNumber: number, unknown: UnknownCollector): RuleWords {
  const rule: RuleWords = {
    protocol: null,
    target: null,
    ipv6: false,
    scheduler: null,
    persistent: false,
    timeout: null,
    netmask: null,
    pe: null,
    schedFlags: [],
    ops: false,
    realServer: null,
    forward: null,
    weight: null,
  };
  for (let j = 1; j < words.length; j++) {
    const word = words[j] ?? '';
    const value = words[j + 1];
    const protocol = SERVICE_SWITCHES[word];
    if (protocol !== undefined && value !== undefined) {
      rule.protocol = protocol;
      rule.target = value;
      j++;
    } else if (word.startsWith('--') && word.endsWith('-service') && value !== undefined) {
      // ipvsadm prints `--xxx-service` for a protocol it has no name for.
      unknown.add(lineNumber, `service protocol switch "${word}" not understood`, `protocol:${word}`);
      rule.target = value;
      j++;
    } else if (word === '-6' || word === '--ipv6') {
      rule.ipv6 = true;
    } else if ((word === '-s' || word === '--scheduler') && value !== undefined) {
      rule.scheduler = value;
      j++;
    } else if (word === '-p' || word === '--persistent') {
      rule.persistent = true;
      const seconds = parseUnsigned(value);
      if (seconds !== null) {
        rule.timeout = seconds;
        j++;
      } else {
        rule.timeout = DEFAULT_PERSISTENCE_SECONDS;
      }
    } else if ((word === '-M' || word === '--netmask') && value !== undefined) {
      rule.netmask = value;
      j++;
    } else if ((word === '--pe' || word === 'pe') && value !== undefined) {
      // ipvsadm 1.26 printed ` pe NAME` without dashes.
      rule.pe = value;
      j++;
    } else if (word === '-o' || word === '--ops') {
      rule.ops = true;
    } else if ((word === '-b' || word === '--sched-flags') && value !== undefined) {
      for (const flag of value.split(',')) if (flag !== '') rule.schedFlags.push(flag);
      j++;
    } else if ((word === '-r' || word === '--real-server') && value !== undefined) {
      rule.realServer = value;
      j++;
    } else if (FORWARD_SWITCHES[word] !== undefined) {
      rule.forward = FORWARD_SWITCHES[word] ?? null;
    } else if (word === '(null)') {
      // Forks print (null) where their own forward method (FullNat) has no switch.
      rule.forward = word;
      unknown.add(lineNumber, 'forwarding switch "(null)" (an ipvsadm fork whose forward method, e.g. FullNat, has no switch): kept as "(null)"', 'forward-null');
    } else if ((word === '-w' || word === '--weight') && value !== undefined) {
      rule.weight = parseSigned(value);
      if (rule.weight === null) unknown.add(lineNumber, `weight "${value}" is not a number`, `weight:${value}`);
      j++;
    } else if (IGNORED_OPTIONS[word] !== undefined) {
      if (IGNORED_OPTIONS[word] === true) j++;
    } else {
      unknown.add(lineNumber, `option "${word}" not understood`, `option:${word}`);
    }
  }
  return rule;
}

/** Address and port of a save-format `addr:port` word (names only without -n). */
function readTarget(word: string, lineNumber: number, unknown: UnknownCollector): { address: string; port: number | null; bracketed: boolean } {
  const { host, portText, bracketed } = splitAddressPort(word);
  const address = canonicalAddress(host);
  if (!isIpAddress(address)) {
    unknown.add(lineNumber, `"${host}" is not an IP address (saved without -n?); kept as written`, 'host-name');
  }
  if (portText === null || portText === '') return { address, port: null, bracketed };
  const decimal = parsePort(portText);
  if (decimal !== null) return { address, port: decimal, bracketed };
  const named = portForServiceName(portText);
  if (named !== null) {
    unknown.add(lineNumber, `port name "${portText}" read as ${named} (save with -n for numbers)`, `port-name:${portText}`);
    return { address, port: named, bracketed };
  }
  unknown.add(lineNumber, `port "${portText}" is neither a number nor a known service name`, `port-unknown:${portText}`);
  return { address, port: null, bracketed };
}

/** The service a rule names, as a key and a way to make its draft; null when unreadable. */
function serviceOfRule(rule: RuleWords, lineNumber: number, unknown: UnknownCollector): { key: string; draft: () => ServiceDraft } | null {
  if (rule.protocol === null || rule.target === null) return null;
  if (rule.protocol === 'FWM') {
    const mark = parseUnsigned(rule.target);
    if (mark === null) return null;
    const family = rule.ipv6 ? 6 : 4;
    return { key: `FWM/${mark}/${family}`, draft: () => newServiceDraft({ protocol: 'FWM', address: null, port: null, fwmark: mark, family }) };
  }
  const protocol = rule.protocol;
  const { address, port, bracketed } = readTarget(rule.target, lineNumber, unknown);
  const family = bracketed ? 6 : 4;
  return { key: `${protocol}/${address}/${port ?? ''}`, draft: () => newServiceDraft({ protocol, address, port, fwmark: null, family }) };
}

/**
 * Reads ipvsadm's save format. `#` lines are comments. Real servers join the service their `-a`
 * line names, wherever it was defined. Throws a usage error for ipvsadm's error text.
 */
export function readIpvsadmSave(text: string): IpvsTable {
  const lines = text.split('\n');
  rejectOtherOutputs(lines);
  const unknown = new UnknownCollector();
  const drafts: ServiceDraft[] = [];
  const byKey = new Map<string, ServiceDraft>();
  const absent: IpvsColumn[] = ['connections'];
  let sawRule = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const words = splitWords(line);
    const command = words[0];
    if (command === undefined || command.startsWith('#')) continue;
    const lineNumber = i + 1;
    const isService = command === '-A' || command === '--add-service';
    const isServer = command === '-a' || command === '--add-server';
    if (!isService && !isServer) {
      unknown.add(lineNumber, `line not understood: ${quoteLine(line)}`);
      continue;
    }
    sawRule = true;
    const rule = readRuleWords(words, lineNumber, unknown);
    const named = serviceOfRule(rule, lineNumber, unknown);
    if (named === null) {
      unknown.add(lineNumber, `${isService ? 'service' : 'real server'} rule names no service it can read: ${quoteLine(line)}`);
      continue;
    }
    let service = byKey.get(named.key);
    if (isService) {
      if (service !== undefined) unknown.add(lineNumber, `service defined twice; the later -A line wins for scheduler and options: ${quoteLine(line)}`);
      service ??= named.draft();
      service.scheduler = rule.scheduler ?? DEFAULT_SCHEDULER;
      // Scheduler flags first, then "ops": the order of the listing's `(sh-port) ... ops`.
      service.flags = rule.ops ? [...rule.schedFlags, 'ops'] : rule.schedFlags;
      service.persistent =
        rule.persistent || rule.netmask !== null || rule.pe !== null
          ? { timeout: rule.timeout, unit: 'seconds', netmask: normaliseNetmask(rule.netmask, service.family), pe: rule.pe }
          : null;
      if (!byKey.has(named.key)) {
        byKey.set(named.key, service);
        drafts.push(service);
      }
      continue;
    }
    if (rule.realServer === null) {
      unknown.add(lineNumber, `real server rule without -r: ${quoteLine(line)}`);
      continue;
    }
    if (service === undefined) {
      // A fragment (grep) may hold -a lines without their -A: keep them, scheduler unknown.
      unknown.add(lineNumber, `real server for a service with no -A line: the service's scheduler is unknown (reported as "")`, 'no-service-rule');
      service = named.draft();
      byKey.set(named.key, service);
      drafts.push(service);
    }
    const target = readTarget(rule.realServer, lineNumber, unknown);
    // `-r addr` without a port means the service's port (ipvsadm -R does the same).
    const port = target.port ?? service.port;
    if (port === null) unknown.add(lineNumber, `real server "${rule.realServer}" has no readable port: reported as port 0`, 'real-server-port-0');
    service.destinations.push({
      address: target.address,
      port: port ?? 0,
      forward: rule.forward ?? DEFAULT_FORWARD,
      weight: rule.weight ?? DEFAULT_WEIGHT,
      activeConns: null,
      inactiveConns: null,
    });
  }
  if (!sawRule && unknown.size > 0) rejectNonTable(text, lines, 'ipvsadm-save');
  return makeTable('ipvsadm-save', drafts, unknown, absent);
}
