// Property-style cross-check: tables made from a seeded generator are printed
// as an ipvsadm listing, in save format and as /proc/net/ip_vs by the small
// test-only renderer below (it follows the printf formats of ipvsadm 1.31 and
// the kernel's ip_vs_info_seq_show), and the three readers must return the same
// services, less what each form does not carry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IpvsDestination, IpvsService } from '../src/ipvs/model.js';
import { canonicalAddress } from '../src/kube/ip.js';
import { virtualServerKey } from '../src/ipvs/model.js';
import { readIpvsText } from '../src/ipvs/read.js';

const HZ = 250;

// ---- generator (seeded, so a failure is reproducible from its seed) ----

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Gen {
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

function gen(seed: number): Gen {
  const next = prng(seed);
  return {
    int: (max) => Math.floor(next() * max),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (p) => next() < p,
  };
}

function ipv4(g: Gen): string {
  return `${g.pick([10, 172, 192, 100])}.${g.int(256)}.${g.int(256)}.${1 + g.int(254)}`;
}

/** IPv6 with zero runs of varied length and place, to exercise compression; canonical text via the model. */
function ipv6(g: Gen): string {
  const groups = Array.from({ length: 8 }, () => (g.chance(0.45) ? 0 : g.int(0x10000)));
  groups[0] = 0xfd00;
  return canonicalAddress(groups.map((x) => x.toString(16)).join(':'));
}

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'sed', 'nq'];

function makeService(g: Gen, usedKeys: Set<string>): IpvsService | null {
  const kind = g.pick(['TCP', 'UDP', 'SCTP', 'FWM'] as const);
  const family: 4 | 6 = g.chance(0.4) ? 6 : 4;
  const scheduler = g.pick(SCHEDULERS);
  const flags: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (g.chance(0.5)) flags.push(`${scheduler}-fallback`);
    if (g.chance(0.5)) flags.push(`${scheduler}-port`);
  }
  if (g.chance(0.2)) flags.push('ops');
  const persistent = g.chance(0.4)
    ? {
        timeout: 1 + g.int(86_400),
        unit: 'seconds' as const,
        netmask: g.chance(0.5) ? null : family === 4 ? g.pick(['255.255.255.0', '255.255.0.0', '255.255.255.128']) : String(g.pick([48, 56, 64, 96])),
        pe: g.chance(0.3) ? 'sip' : null,
      }
    : null;
  const destinations: IpvsDestination[] = [];
  // An IPv6 FWM service shows its family in /proc only through its real servers: always give it one.
  const count = kind === 'FWM' && family === 6 ? 1 + g.int(4) : g.int(5);
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const address = family === 4 ? ipv4(g) : ipv6(g);
    const port = kind === 'FWM' ? 0 : 1 + g.int(65_535);
    if (seen.has(`${address}/${port}`)) continue;
    seen.add(`${address}/${port}`);
    destinations.push({
      address,
      port,
      forward: g.pick(['Masq', 'Route', 'Tunnel', 'Local']),
      weight: g.chance(0.2) ? 0 : 1 + g.int(300),
      activeConns: g.int(5000),
      inactiveConns: g.int(5000),
    });
  }
  const service: IpvsService =
    kind === 'FWM'
      ? { protocol: 'FWM', address: null, port: null, fwmark: 1 + g.int(0xffff), family, scheduler, flags, persistent, destinations }
      : { protocol: kind, address: family === 4 ? ipv4(g) : ipv6(g), port: 1 + g.int(65_535), fwmark: null, family, scheduler, flags, persistent, destinations };
  const key = `${virtualServerKey(service)}/${family}`;
  if (usedKeys.has(key)) return null;
  usedKeys.add(key);
  return service;
}

function makeTable(seed: number): IpvsService[] {
  const g = gen(seed);
  const used = new Set<string>();
  const services: IpvsService[] = [];
  const size = 1 + g.int(12);
  for (let i = 0; i < size; i++) {
    const s = makeService(g, used);
    if (s !== null) services.push(s);
  }
  return services;
}

// ---- test-only renderer, after the documented printf formats ----

const bracket = (address: string, family: 4 | 6): string => (family === 6 ? `[${address}]` : address);

function dottedToNumber(dotted: string): number {
  return dotted.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

const hex = (value: number, width: number): string => value.toString(16).toUpperCase().padStart(width, '0');

/** %pI6: 8 groups of 4 lower-case hex digits, no compression. */
function expandIpv6(address: string): string {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const middle = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...middle, ...right].map((group) => group.padStart(4, '0')).join(':');
}

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** `ipvsadm -Ln` (1.31): print_title, print_service_entry with FMT_NUMERIC. */
function renderListing(services: readonly IpvsService[]): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const s of services) {
    let line =
      s.protocol === 'FWM'
        ? `FWM  ${s.fwmark}${s.family === 6 ? ' IPv6' : ''}`
        : `${s.protocol.padEnd(4)} ${bracket(s.address ?? '', s.family)}:${s.port}`;
    line += ` ${s.scheduler}`;
    const schedFlags = s.flags.filter((f) => f !== 'ops');
    if (schedFlags.length > 0) line += ` (${schedFlags.join(',')})`;
    if (s.persistent !== null) {
      line += ` persistent ${s.persistent.timeout}`;
      if (s.persistent.netmask !== null) line += ` mask ${s.persistent.netmask}`;
      if (s.persistent.pe !== null) line += ` pe ${s.persistent.pe}`;
    }
    if (s.flags.includes('ops')) line += ' ops';
    lines.push(line);
    for (const d of s.destinations) {
      const name = `${bracket(d.address, familyOf(d.address))}:${d.port}`;
      lines.push(`  -> ${name.padEnd(28)} ${d.forward.padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const FORWARD_SWITCH: Readonly<Record<string, string>> = { Masq: '-m', Route: '-g', Local: '-g', Tunnel: '-i' };

/** `ipvsadm -S -n` (1.31): print_service_entry with FMT_RULE. */
function renderSave(services: readonly IpvsService[]): string {
  const lines: string[] = [];
  for (const s of services) {
    const name =
      s.protocol === 'FWM'
        ? `-f ${s.fwmark}${s.family === 6 ? ' -6' : ''}`
        : `${{ TCP: '-t', UDP: '-u', SCTP: '--sctp-service' }[s.protocol]} ${bracket(s.address ?? '', s.family)}:${s.port}`;
    let line = `-A ${name} -s ${s.scheduler}`;
    if (s.persistent !== null) {
      line += ` -p ${s.persistent.timeout}`;
      if (s.persistent.netmask !== null) line += ` -M ${s.persistent.netmask}`;
      if (s.persistent.pe !== null) line += ` --pe ${s.persistent.pe}`;
    }
    if (s.flags.includes('ops')) line += ' -o';
    const schedFlags = s.flags.filter((f) => f !== 'ops');
    if (schedFlags.length > 0) line += ` -b ${schedFlags.join(',')}`;
    lines.push(line);
    for (const d of s.destinations) {
      lines.push(`-a ${name} -r ${bracket(d.address, familyOf(d.address))}:${d.port} ${FORWARD_SWITCH[d.forward]} -w ${d.weight}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The IPv6 prefix length as /proc prints it: ntohl() of a host-order number on a little-endian host. */
function byteSwapped(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

/** /proc/net/ip_vs: ip_vs_info_seq_show. Services in reverse order, as hash order differs from ipvsadm's. */
function renderProc(services: readonly IpvsService[]): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn'];
  for (const s of [...services].reverse()) {
    const ops = s.flags.includes('ops') ? 'ops ' : '';
    let line: string;
    if (s.protocol === 'FWM') line = `FWM  ${hex(s.fwmark ?? 0, 8)} ${s.scheduler} ${ops}`;
    else if (s.family === 6) line = `${s.protocol}  [${expandIpv6(s.address ?? '')}]:${hex(s.port ?? 0, 4)} ${s.scheduler} `;
    else line = `${s.protocol}  ${hex(dottedToNumber(s.address ?? ''), 8)}:${hex(s.port ?? 0, 4)} ${s.scheduler} ${ops}`;
    if (s.persistent !== null) {
      const mask =
        s.family === 4
          ? s.persistent.netmask === null ? 0xffffffff : dottedToNumber(s.persistent.netmask)
          : byteSwapped(s.persistent.netmask === null ? 128 : Number(s.persistent.netmask));
      line += `persistent ${(s.persistent.timeout ?? 0) * HZ} ${hex(mask, 8)}`;
    }
    lines.push(line);
    for (const d of s.destinations) {
      const address = familyOf(d.address) === 6 ? `[${expandIpv6(d.address)}]` : hex(dottedToNumber(d.address), 8);
      lines.push(`  -> ${address}:${hex(d.port, 4)}      ${d.forward.padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.activeConns).padEnd(10)} ${String(d.inactiveConns).padEnd(10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---- what each form keeps ----

const byKey = (services: readonly IpvsService[]): IpvsService[] =>
  [...services].sort((a, b) => `${virtualServerKey(a)}/${a.family}`.localeCompare(`${virtualServerKey(b)}/${b.family}`));

/** Save format: no connection counters; `-g` stands for both Route and Local. */
function asSaved(s: IpvsService): IpvsService {
  return { ...s, destinations: s.destinations.map((d) => ({ ...d, forward: d.forward === 'Local' ? 'Route' : d.forward, activeConns: null, inactiveConns: null })) };
}

/** /proc: no scheduler flags, no pe; "ops" only for IPv4 and FWM services. */
function asProc(s: IpvsService): IpvsService {
  const ops = s.flags.includes('ops') && !(s.protocol !== 'FWM' && s.family === 6);
  return { ...s, flags: ops ? ['ops'] : [], persistent: s.persistent === null ? null : { ...s.persistent, pe: null } };
}

describe('the three readers agree on rendered tables', () => {
  const SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i * 7919);

  test('the generator covers every shape the readers must agree on', () => {
    const all = SEEDS.flatMap(makeTable);
    const has = (p: (s: IpvsService) => boolean): boolean => all.some(p);
    assert.ok(has((s) => s.protocol === 'FWM' && s.family === 6));
    assert.ok(has((s) => s.protocol === 'SCTP' && s.family === 6));
    assert.ok(has((s) => s.persistent?.netmask !== null && s.persistent !== null && s.family === 6));
    assert.ok(has((s) => s.persistent?.pe === 'sip'));
    assert.ok(has((s) => s.flags.includes('ops') && s.flags.length > 1));
    assert.ok(has((s) => s.destinations.some((d) => d.forward === 'Local')));
    assert.ok(has((s) => s.destinations.some((d) => d.weight === 0)));
    assert.ok(has((s) => s.destinations.length === 0));
    assert.ok(has((s) => (s.address ?? '').includes('::')));
  });

  for (const seed of SEEDS) {
    test(`seed ${seed}`, () => {
      const services = makeTable(seed);
      const listing = readIpvsText(renderListing(services));
      const saved = readIpvsText(renderSave(services));
      const proc = readIpvsText(renderProc(services), { hz: HZ });
      assert.equal(listing.format, 'ipvsadm-list');
      assert.equal(saved.format, 'ipvsadm-save');
      assert.equal(proc.format, 'proc');
      for (const t of [listing, saved, proc]) assert.deepEqual(t.unknown, [], t.format);
      assert.deepEqual(listing.services, services);
      assert.deepEqual(byKey(saved.services), byKey(services.map(asSaved)));
      assert.deepEqual(byKey(proc.services), byKey(services.map(asProc)));
    });
  }
});
