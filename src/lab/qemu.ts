// The qemu command line for one lab run, as data (pure): no network, no disk,
// the host's / shared read-only, the io folder shared writable, the unpacked
// modules shared read-only, and two virtio-serial ports for the command's output.
import { usageError } from '../errors.js';
import { PORT_NAMES, SHARE_TAGS } from './guest.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

export type LabAccel = 'kvm' | 'tcg';

/** File descriptors of the qemu child (spawn stdio indexes) that carry each stream. */
export const QEMU_FDS = { console: 1, stdout: 3, stderr: 4 } as const;

export interface QemuPlan {
  readonly kernel: string;
  readonly initrd: string;
  /** The unpacked `lib/modules` folder (holds <release>/). */
  readonly modulesDir: string;
  /** The per-run writable folder (run.sh, exit-code). */
  readonly ioDir: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly accel: LabAccel;
  /** The host folder shared read-only as the VM's root (/ unless a test says otherwise). */
  readonly rootDir?: string;
}

/** Rejects paths qemu's option parser would split (commas separate its sub-options). */
function optionPath(path: string, what: string): string {
  if (path.includes(',')) {
    throw usageError(`the lab's ${what} path contains a comma, which qemu cannot take: ${path}`, 'use a LAB_CACHE_DIR and TMPDIR without commas');
  }
  return path;
}

export function planQemuArgs(plan: QemuPlan): string[] {
  const share = (path: string, tag: string, readOnly: boolean, what: string) => [
    '-virtfs',
    `local,path=${optionPath(path, what)},mount_tag=${tag},security_model=none${readOnly ? ',readonly=on' : ''},multidevs=remap`,
  ];
  return [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-machine', 'q35',
    // NOTE: `-cpu max` with KVM fails on some hosts ("failed to set MSR"); `host` is KVM's natural model.
    '-accel', plan.accel,
    '-cpu', plan.accel === 'kvm' ? 'host' : 'max',
    '-m', String(plan.memoryMb),
    '-smp', String(plan.cpus),
    '-no-reboot',
    '-kernel', optionPath(plan.kernel, 'kernel'),
    '-initrd', optionPath(plan.initrd, 'initramfs'),
    // NOTE: the command never goes on the kernel command line: words with spaces or '=' break it.
    '-append', 'console=ttyS0 quiet panic=-1 rdinit=/init',
    '-chardev', `socket,id=console,fd=${QEMU_FDS.console}`,
    '-serial', 'chardev:console',
    ...share(plan.rootDir ?? '/', SHARE_TAGS.hostRoot, true, 'root'),
    ...share(plan.ioDir, SHARE_TAGS.io, false, 'io'),
    ...share(plan.modulesDir, SHARE_TAGS.modules, true, 'modules'),
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=out,fd=${QEMU_FDS.stdout}`,
    '-device', `virtserialport,chardev=out,name=${PORT_NAMES.stdout}`,
    '-chardev', `socket,id=err,fd=${QEMU_FDS.stderr}`,
    '-device', `virtserialport,chardev=err,name=${PORT_NAMES.stderr}`,
  ];
}
