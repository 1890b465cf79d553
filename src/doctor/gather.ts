// Reads everything doctor judges: the kernel (through a Host), user-space tools,
// privileges and the provider's tools. Effects only; no verdicts here.
import type { Check } from './check.js';
import type { Host } from '../exec/host.js';
import type { Runner } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import type { KernelFacts } from '../kernel/modules.js';
import { probeKernel } from '../kernel/probe.js';
import type { KernelSite } from '../kernel/site.js';
import { thisMachineSite } from '../kernel/site.js';
import { isLocalUpError } from '../errors.js';
import type { Privileges, SudoState, Tools } from './evaluate.js';
import { probeTool } from './tools.js';

const SUDO_TIMEOUT_MS = 5_000;

export interface DoctorDeps {
  readonly host: Host;
  readonly runner: Runner;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The effective user id (process.getuid on this machine). */
  readonly uid: number;
  /** The chosen provider's read-only checks (its tools; Provider.checks). */
  readonly providerChecks: () => Promise<readonly Check[]>;
  /** Where kube-proxy's kernel is (Provider.kernelSite); absent or null: this machine's (deps.host). */
  readonly kernelSite?: () => Promise<KernelSite | null>;
}

export interface DoctorFacts {
  readonly kernel: KernelFacts | { readonly error: string };
  readonly tools: Tools;
  readonly privileges: Privileges;
  /** The chosen provider's own read-only checks (Provider.checks). */
  readonly providerChecks: readonly Check[];
  /** The kernel judged. */
  readonly site: KernelSite;
}

export async function readKernelFacts(host: Host): Promise<KernelFacts | { readonly error: string }> {
  try {
    return await probeKernel(host);
  } catch (error) {
    if (isLocalUpError(error)) return { error: error.message };
    throw error;
  }
}

export async function gatherTools(runner: Runner, env: DoctorDeps['env']): Promise<Tools> {
  const [ipset, iptables, modprobe, conntrack, ipvsadm] = await Promise.all([
    probeTool('ipset', runner, env, { versionArgs: ['--version'] }),
    probeTool('iptables', runner, env, { versionArgs: ['--version'] }),
    probeTool('modprobe', runner, env, { versionArgs: ['--version'] }),
    probeTool('conntrack', runner, env, { versionArgs: ['--version'] }),
    // NOTE: ipvsadm initialises IPVS before parsing options, so even --version fails (exit 2) without IPVS.
    probeTool('ipvsadm', runner, env, { versionArgs: null }),
  ]);
  return { ipset, iptables, modprobe, conntrack, ipvsadm };
}

export async function readPrivileges(runner: Runner, env: DoctorDeps['env'], uid: number): Promise<Privileges> {
  if (uid === 0) return { uid, sudo: 'passwordless' };
  const sudo = findExecutable('sudo', env);
  if (sudo === null) return { uid, sudo: 'absent' };
  const result = await runner.run(sudo, ['-n', 'true'], { timeoutMs: SUDO_TIMEOUT_MS });
  const state: SudoState = result.exitCode === 0 ? 'passwordless' : /password/i.test(result.stderr) ? 'needs-password' : 'absent';
  return { uid, sudo: state };
}

export async function gatherDoctorFacts(deps: DoctorDeps): Promise<DoctorFacts> {
  const readSite = async (): Promise<{ site: KernelSite; kernel: DoctorFacts['kernel'] }> => {
    const site = (await deps.kernelSite?.()) ?? thisMachineSite(deps.host);
    return { site, kernel: site.host === null ? { error: site.problem ?? `cannot read ${site.description}` } : await readKernelFacts(site.host) };
  };
  const [{ site, kernel }, tools, privileges, providerChecks] = await Promise.all([
    readSite(),
    gatherTools(deps.runner, deps.env),
    readPrivileges(deps.runner, deps.env, deps.uid),
    deps.providerChecks(),
  ]);
  return { kernel, tools, privileges, providerChecks, site };
}
