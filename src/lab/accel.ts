// Which accelerator a lab run uses. /dev/kvm existing is not proof that KVM
// works (nested or restricted hosts abort or hang at boot), so `auto` tries KVM
// under a short boot deadline, falls back to TCG, and remembers the verdict per
// host kernel and qemu version so later runs go straight to the right one.
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unavailableError } from '../errors.js';
import { labCachePaths, writeFileAtomic } from './cache.js';
import type { LabAccel } from './qemu.js';

export type LabAccelSetting = 'auto' | 'kvm' | 'tcg';
export type KvmVerdict = 'works' | 'broken';

export const KVM_DEVICE = '/dev/kvm';

/** How long a KVM boot may take to reach /init before we call KVM broken (TCG needs ~3 s). */
export const KVM_BOOT_DEADLINE_MS = 20_000;

export interface AccelPlan {
  readonly accel: LabAccel;
  /** Boot under a deadline; when `fallback`, retry with TCG if it is missed. */
  readonly bootDeadlineMs?: number;
  readonly fallback: boolean;
}

/** Pure: the accelerator for a setting, given what we know about this host. */
export function planAccel(setting: LabAccelSetting, host: { kvmUsable: boolean; verdict: KvmVerdict | null }): AccelPlan {
  if (setting === 'tcg') return { accel: 'tcg', fallback: false };
  if (setting === 'kvm') {
    if (!host.kvmUsable) {
      throw unavailableError(`LAB_ACCEL=kvm but ${KVM_DEVICE} is missing or not readable and writable by this user`, {
        hint: 'use LAB_ACCEL=tcg (software emulation) or auto, or give this user access to /dev/kvm (the kvm group)',
      });
    }
    return { accel: 'kvm', bootDeadlineMs: KVM_BOOT_DEADLINE_MS, fallback: false };
  }
  if (!host.kvmUsable || host.verdict === 'broken') return { accel: 'tcg', fallback: false };
  return { accel: 'kvm', bootDeadlineMs: KVM_BOOT_DEADLINE_MS, fallback: true };
}

export function isKvmUsable(device = KVM_DEVICE): boolean {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The verdict cache key: KVM breakage depends on the host kernel and on qemu. */
export function verdictKey(hostKernelRelease: string, qemuVersion: string): string {
  return createHash('sha256').update(`${hostKernelRelease}\n${qemuVersion}`).digest('hex').slice(0, 16);
}

export async function readKvmVerdict(cacheDir: string, key: string): Promise<KvmVerdict | null> {
  try {
    const value = JSON.parse(await readFile(join(labCachePaths(cacheDir).accelDir, `${key}.json`), 'utf8')) as { kvm?: unknown };
    return value.kvm === 'works' || value.kvm === 'broken' ? value.kvm : null;
  } catch {
    return null;
  }
}

export async function writeKvmVerdict(cacheDir: string, key: string, verdict: KvmVerdict, about: Record<string, string>): Promise<void> {
  const dir = labCachePaths(cacheDir).accelDir;
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, `${key}.json`), `${JSON.stringify({ kvm: verdict, ...about, decidedAt: new Date().toISOString() }, null, 2)}\n`);
}
