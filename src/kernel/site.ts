// Where the kernel that runs kube-proxy is: this machine's, or another one (a container engine's VM,
// a remote engine). doctor judges IPVS there and `up` loads the modules there; a provider says which
// (Provider.kernelSite), and without one it is this machine.
import type { Host } from '../exec/host.js';

export interface KernelSite {
  /** Reads that kernel's files and runs modprobe against it; null when it cannot be reached (see problem). */
  readonly host: Host | null;
  /** Why the kernel cannot be read, when host is null. */
  readonly problem: string | null;
  /** true: this machine's kernel (host-side tools, privileges and `modules load` apply). */
  readonly shared: boolean;
  /** Which kernel, for people: "this machine", "the docker engine's VM (Docker Desktop)". */
  readonly description: string;
  /** The release the engine reported (or null when only the probe will tell). */
  readonly release: string | null;
  /** How its files are read, e.g. the exact container command. */
  readonly how: string;
  /** Why that kernel is the one that counts (the evidence compared). */
  readonly why: string;
  /** The engine runs rootless: its nodes cannot load modules; the host must have them loaded beforehand. */
  readonly rootless: boolean;
  /** Modules are loaded by `modprobe` run through host (as root there) rather than with sudo on this machine. */
  readonly modprobeThroughHost: boolean;
}

/** This machine's kernel, read through `host` (HOST_ROOT), the default for every provider. */
export function thisMachineSite(host: Host): KernelSite {
  return {
    host,
    problem: null,
    shared: true,
    description: host.description,
    release: null,
    how: `${host.description}: /proc, /sys, /lib/modules and /boot read directly`,
    why: 'kube-proxy runs on this machine\'s kernel',
    rootless: false,
    modprobeThroughHost: false,
  };
}
