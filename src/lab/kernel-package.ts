// Pure readers of what the package tools print while `lab prepare` finds and
// unpacks Debian's kernel: which versioned package the meta-package points to,
// and the insmod order modprobe computes.

/** The meta-package that always depends on the current Debian kernel for amd64. */
export const KERNEL_META_PACKAGE = 'linux-image-amd64';

const VERSIONED_IMAGE = /^linux-image-(\d+\.\d+[^\s]*-amd64)$/;

/**
 * The versioned image package named by `apt-cache depends linux-image-amd64`, e.g.
 * "linux-image-6.1.0-56-amd64"; null when the output names none.
 */
export function parseKernelDependency(aptCacheDepends: string): string | null {
  for (const line of aptCacheDepends.split('\n')) {
    const match = /^\s*\|?Depends:\s*(\S+)\s*$/.exec(line);
    const name = match?.[1];
    // NOTE: "-unsigned" variants and <virtual> names are not bootable images we can use.
    if (name !== undefined && VERSIONED_IMAGE.test(name) && !name.includes('unsigned')) return name;
  }
  return null;
}

/** "linux-image-6.1.0-56-amd64" → "6.1.0-56-amd64" (the kernel release, `uname -r` in the VM). */
export function kernelReleaseOf(packageName: string): string {
  const match = VERSIONED_IMAGE.exec(packageName);
  if (match?.[1] === undefined) throw new Error(`not a versioned kernel image package: ${packageName}`);
  return match[1];
}

/**
 * The module files to insmod, in order, from `modprobe --show-depends` output for
 * one or more modules. Repeats are dropped (first position wins); built-ins need nothing.
 */
export function parseShowDepends(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^insmod\s+(\S+)/.exec(line.trim());
    const path = match?.[1];
    if (path !== undefined && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** The package file `apt-get download` left in a folder listing. */
export function findDownloadedDeb(names: readonly string[], packageName: string): string | null {
  return names.find((name) => name.startsWith(`${packageName}_`) && name.endsWith('.deb')) ?? null;
}
