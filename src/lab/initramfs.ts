// The lab's initramfs: a static busybox, the few modules needed to reach the 9p
// shares and the virtio-serial ports, and /init. Pure: bytes in, gzip bytes out.
import { gzipSync } from 'node:zlib';
import type { CpioEntry } from './cpio.js';
import { encodeNewc } from './cpio.js';
import { renderInitScript } from './guest.js';

/** Modules /init loads before it can mount anything (their dependencies are added by modprobe). */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_console', '9pnet_virtio', '9p', 'overlay'] as const;

export interface InitramfsModule {
  /** File name inside the initramfs (unique), e.g. "virtio_ring.ko". */
  readonly name: string;
  readonly data: Uint8Array;
}

/**
 * The cached part of the initramfs (gzip): busybox, the modules and the kernel's
 * config. /init is not in it: each run appends its own (see withInitScript), so a
 * changed init script never meets a stale cache.
 */
export function buildBaseInitramfs(input: { busybox: Uint8Array; modules: readonly InitramfsModule[]; kernelConfig?: Uint8Array }): Buffer {
  const names = new Set<string>();
  for (const module of input.modules) {
    if (names.has(module.name)) throw new Error(`two initramfs modules named ${module.name}`);
    names.add(module.name);
  }
  const entries: CpioEntry[] = [
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    // NOTE: the kernel opens /dev/console for /init's stdio before anything is mounted.
    { kind: 'char', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { kind: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { kind: 'dir', path: 'lib' },
    { kind: 'dir', path: 'lib/modules' },
    { kind: 'file', path: 'bin/busybox', data: input.busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ...input.modules.map((module): CpioEntry => ({ kind: 'file', path: `lib/modules/${module.name}`, data: module.data })),
    ...(input.kernelConfig === undefined ? [] : [{ kind: 'file', path: 'kernel-config', data: input.kernelConfig } as const]),
  ];
  return gzipSync(encodeNewc(entries), { level: 6 });
}

/**
 * The base initramfs followed by an uncompressed archive holding /init for these
 * modules. The kernel unpacks concatenated archives in order; each must start on a
 * 4-byte boundary (zero padding between them is skipped).
 */
export function withInitScript(base: Uint8Array, modules: readonly string[]): Buffer {
  const init = encodeNewc([{ kind: 'file', path: 'init', data: Buffer.from(renderInitScript(modules)), mode: 0o755 }]);
  return Buffer.concat([base, Buffer.alloc((4 - (base.length % 4)) % 4), init]);
}

const PT_INTERP = 3;

/**
 * True when the bytes are an ELF executable without a program interpreter, i.e.
 * statically linked (the initramfs has no libc for a dynamic busybox).
 */
export function isStaticElf(bytes: Uint8Array): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < 64 || buffer.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = buffer[4] === 2;
  const little = buffer[5] === 1;
  const u16 = (at: number) => (little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at));
  const u32 = (at: number) => (little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
  const u64 = (at: number) => Number(little ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > buffer.length) return false;
    if (u32(at) === PT_INTERP) return false;
  }
  return true;
}
