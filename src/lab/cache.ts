// The lab cache folder (LAB_CACHE_DIR): prepared kernels, the pointer to the
// current one, the prepare lock and the remembered KVM verdicts.
//   kernels/<release>/{vmlinuz,initrd.gz,config,lib/modules/<release>/,manifest.json}
//   current.json      which prepared kernel `lab` boots
//   prepare.lock      held while a prepare runs
//   accel/<key>.json  whether KVM worked for a host kernel + qemu version
//   build-<pid>-*     a prepare in progress (renamed into kernels/ when complete)
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 2;

export interface PreparedKernel {
  readonly format: typeof MANIFEST_FORMAT;
  /** Kernel release, e.g. "6.1.0-56-amd64". */
  readonly release: string;
  /** Debian package and version it came from. */
  readonly packageName: string;
  readonly packageVersion: string;
  /** The folder holding everything below. */
  readonly dir: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Shared into the VM as /lib/modules. */
  readonly modulesDir: string;
  readonly config: string;
  /** Module files inside the initramfs, in insmod order. */
  readonly initramfsModules: readonly string[];
  readonly bytes: { readonly kernel: number; readonly initrd: number; readonly modules: number };
  readonly preparedAt: string;
}

export function labCachePaths(cacheDir: string) {
  return {
    kernelsDir: join(cacheDir, 'kernels'),
    currentFile: join(cacheDir, 'current.json'),
    lockFile: join(cacheDir, 'prepare.lock'),
    accelDir: join(cacheDir, 'accel'),
  };
}

export const kernelDirFor = (cacheDir: string, release: string): string => join(labCachePaths(cacheDir).kernelsDir, release);

/** Prefix of in-progress build folders; the pid tells a live prepare from a dead one. */
export const BUILD_PREFIX = 'build-';

/** Writes a small file so readers see the old or the new content, never a half. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** The manifest of a prepared kernel folder, or null when it is missing, foreign or incomplete. */
export async function readKernelManifest(dir: string): Promise<PreparedKernel | null> {
  const value = await readJson(join(dir, MANIFEST_FILE));
  if (typeof value !== 'object' || value === null) return null;
  const manifest = value as Partial<PreparedKernel>;
  if (manifest.format !== MANIFEST_FORMAT || typeof manifest.release !== 'string') return null;
  // The manifest stores names relative to its folder, so a moved cache still works.
  const resolved: PreparedKernel = {
    ...(manifest as PreparedKernel),
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.gz'),
    modulesDir: join(dir, 'lib', 'modules'),
    config: join(dir, 'config'),
  };
  for (const path of [resolved.kernel, resolved.initrd, join(resolved.modulesDir, resolved.release, 'modules.dep')]) {
    if (!(await exists(path))) return null;
  }
  return resolved;
}

/** The kernel `lab` boots: the one current.json names, if it is complete. */
export async function readCurrentKernel(cacheDir: string): Promise<PreparedKernel | null> {
  const value = await readJson(labCachePaths(cacheDir).currentFile);
  const release = typeof value === 'object' && value !== null ? (value as { release?: unknown }).release : undefined;
  if (typeof release !== 'string' || release.includes('/') || release.startsWith('.')) return null;
  return readKernelManifest(kernelDirFor(cacheDir, release));
}
