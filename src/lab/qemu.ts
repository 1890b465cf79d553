// The qemu command line for one lab run, as data (pure): no disk, no network
// unless asked for (then only forwards to chosen host programs), the host's /
// shared read-only, the io folder shared writable, the unpacked modules shared
// read-only, and two virtio-serial ports for the command's output.
import { usageError } from '../errors.js';
import { PORT_NAMES, SHARE_TAGS, shellQuote } from './guest.js';

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
  /** A network card whose only way out is these forwards; absent: no network card at all. */
  readonly network?: LabNetwork;
}

/**
 * The guest's side of qemu's user-mode network (slirp's fixed defaults: qemu docs, "-netdev user",
 * net=10.0.2.0/24, host=10.0.2.2, first DHCP address 10.0.2.15). The guest configures the card
 * itself (virtio_net is a module in Debian's kernel): address, then a route to the forwards.
 */
export const LAB_NET = { guestAddress: '10.0.2.15', prefixLength: 24, gateway: '10.0.2.2', forwardAddress: '10.0.2.100' } as const;

/** A guest TCP port on LAB_NET.forwardAddress whose every connection starts a host program, the connection being its stdin and stdout. */
export interface LabForward {
  readonly guestPort: number;
  /** argv of the host program (one per connection); words may not hold NUL bytes. */
  readonly command: readonly string[];
}

export interface LabNetwork {
  readonly forwards: readonly LabForward[];
}

/**
 * `-netdev user` with restrict=on: the guest cannot reach the host or anything beyond, except
 * through the guestfwd rules (restrict "does not affect any explicitly set forwarding rules": qemu
 * 7.2 docs, -netdev user). guestfwd's `cmd:` form runs the program per connection (libslirp
 * misc.c fork_exec, which splits the text with g_shell_parse_argv, so words are quoted here);
 * the chardev form would carry one connection for the VM's whole life.
 */
export function planNetworkArgs(network: LabNetwork): string[] {
  const forwards = network.forwards.map((forward) => {
    if (!Number.isInteger(forward.guestPort) || forward.guestPort < 1 || forward.guestPort > 65535) {
      throw usageError(`the lab's forward port ${forward.guestPort} is not a TCP port`);
    }
    if (forward.command.length === 0) throw usageError(`the lab's forward to guest port ${forward.guestPort} has no command`);
    // NOTE: qemu's option parser reads ",," as a literal comma.
    const command = forward.command.map(shellQuote).join(' ').replaceAll(',', ',,');
    return `,guestfwd=tcp:${LAB_NET.forwardAddress}:${forward.guestPort}-cmd:${command}`;
  });
  return ['-netdev', `user,id=net0,restrict=on${forwards.join('')}`, '-device', 'virtio-net-pci,netdev=net0'];
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
    ...(plan.network === undefined ? [] : planNetworkArgs(plan.network)),
  ];
}
