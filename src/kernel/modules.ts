// Which kernel modules IPVS mode needs and what state each is in, decided from
// facts read off a kernel (/proc/modules, /sys/module, modules.builtin, the
// module tree, the kernel config). Pure: src/kernel/probe.ts gathers the facts.
import { CONNTRACK_MERGED_KERNEL } from '../kubeproxy/versions.js';

export interface KernelRelease {
  readonly release: string;
  readonly major: number;
  readonly minor: number;
}

export function parseKernelRelease(text: string): KernelRelease | null {
  const release = text.trim();
  const match = /^(\d+)\.(\d+)/.exec(release);
  if (match === null) return null;
  return { release, major: Number(match[1]), minor: Number(match[2]) };
}

/** nf_conntrack_ipv4 was merged into nf_conntrack in Linux 4.19. */
export function conntrackModule(kernel: Pick<KernelRelease, 'major' | 'minor'>): 'nf_conntrack' | 'nf_conntrack_ipv4' {
  const merged = kernel.major > CONNTRACK_MERGED_KERNEL.major || (kernel.major === CONNTRACK_MERGED_KERNEL.major && kernel.minor >= CONNTRACK_MERGED_KERNEL.minor);
  return merged ? 'nf_conntrack' : 'nf_conntrack_ipv4';
}

/** The IPVS modules for a scheduler, without conntrack (which depends on the kernel): ip_vs, rr, wrr, sh, the scheduler's. */
export function ipvsModuleNames(scheduler: string): string[] {
  return [...new Set(['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', `ip_vs_${scheduler}`])];
}

/** The modules kube-proxy's IPVS mode needs on this kernel with this scheduler, in load order. */
export function requiredModules(kernel: Pick<KernelRelease, 'major' | 'minor'>, scheduler: string): string[] {
  return [...ipvsModuleNames(scheduler), conntrackModule(kernel)];
}

/** Module names use "_" in /proc/modules but may use "-" in file names. */
export const normaliseModuleName = (name: string): string => name.replaceAll('-', '_');

/** The Kconfig symbol of a module: ip_vs_rr → CONFIG_IP_VS_RR. */
export const configSymbol = (module: string): string => `CONFIG_${normaliseModuleName(module).toUpperCase()}`;

export type ConfigValue = 'y' | 'm' | 'n' | string;

/** Parses a kernel .config: "CONFIG_X=y", "CONFIG_X=m", "# CONFIG_X is not set" (→ 'n'). */
export function parseKernelConfig(text: string): Map<string, ConfigValue> {
  const values = new Map<string, ConfigValue>();
  for (const line of text.split('\n')) {
    if (line.startsWith('CONFIG_')) {
      const eq = line.indexOf('=');
      if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
    } else if (line.startsWith('# CONFIG_') && line.endsWith(' is not set')) {
      values.set(line.slice(2, -' is not set'.length), 'n');
    }
  }
  return values;
}

/** Module names listed in /proc/modules (first column). */
export function parseProcModules(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(' ', 1)[0];
    if (name !== undefined && name !== '') names.add(normaliseModuleName(name));
  }
  return names;
}

function moduleNameOfPath(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const match = /^(.+?)\.ko(?:\.(?:xz|gz|zst))?$/.exec(base);
  return match === null ? null : normaliseModuleName(match[1] as string);
}

/** modules.builtin: one path per line, "kernel/net/netfilter/ipvs/ip_vs.ko". */
export function parseModulesBuiltin(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const name = moduleNameOfPath(line.trim());
    if (name !== null) names.set(name, line.trim());
  }
  return names;
}

/** modules.dep: "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/...nf_conntrack.ko ..." → name → path. */
export function parseModulesDep(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon);
    const name = moduleNameOfPath(path);
    if (name !== null) names.set(name, path);
  }
  return names;
}

/** Module files found by walking the module tree (when there is no modules.dep). */
export function modulesFromPaths(paths: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const path of paths) {
    const name = moduleNameOfPath(path);
    if (name !== null) names.set(name, path);
  }
  return names;
}

/** Everything read off one kernel; null means "could not be read there". */
export interface KernelFacts {
  readonly release: KernelRelease;
  /** The kernel config and where it came from (/proc/config.gz or /boot/config-<release>). */
  readonly config: { readonly source: string; readonly values: ReadonlyMap<string, ConfigValue> } | null;
  /** /proc/modules; null when the file does not exist (a kernel without module support). */
  readonly loaded: ReadonlySet<string> | null;
  /** Entries of /sys/module (loaded modules, and built-in ones that have parameters). */
  readonly sysModule: ReadonlySet<string> | null;
  /** modules.builtin of this release. */
  readonly builtin: { readonly source: string; readonly modules: ReadonlyMap<string, string> } | null;
  /** Loadable module files of this release (from modules.dep or a walk of the tree). */
  readonly tree: { readonly source: string; readonly modules: ReadonlyMap<string, string> } | null;
}

export type ModuleState = 'loaded' | 'builtin' | 'loadable' | 'absent';

export interface ModuleStatus {
  readonly name: string;
  readonly state: ModuleState;
  /** What was read, in words: "listed in /proc/modules", "CONFIG_IP_VS is not set (/proc/config.gz)". */
  readonly evidence: string;
}

/** true/false when the kernel config or /proc/modules says; null when nothing tells. */
export function moduleSupport(facts: KernelFacts): boolean | null {
  const value = facts.config?.values.get('CONFIG_MODULES');
  if (value === 'y') return true;
  if (value === 'n') return false;
  return facts.loaded === null ? null : true;
}

export function classifyModule(name: string, facts: KernelFacts): ModuleStatus {
  const module = normaliseModuleName(name);
  const symbol = configSymbol(module);
  const configValue = facts.config?.values.get(symbol);
  const configSource = facts.config?.source ?? '';
  const supported = moduleSupport(facts);

  if (facts.loaded?.has(module) === true) return { name: module, state: 'loaded', evidence: 'listed in /proc/modules' };
  const builtinPath = facts.builtin?.modules.get(module);
  if (builtinPath !== undefined) {
    return { name: module, state: 'builtin', evidence: `built into the kernel (${facts.builtin?.source}: ${builtinPath})` };
  }
  if (configValue === 'y') return { name: module, state: 'builtin', evidence: `built into the kernel (${symbol}=y in ${configSource})` };
  if (facts.sysModule?.has(module) === true && facts.loaded !== null) {
    return { name: module, state: 'builtin', evidence: `built into the kernel (/sys/module/${module} exists but /proc/modules does not list it)` };
  }
  const treePath = facts.tree?.modules.get(module);
  if (treePath !== undefined && supported !== false) {
    return { name: module, state: 'loadable', evidence: `loadable, not loaded (${treePath} in ${facts.tree?.source})` };
  }

  const reasons: string[] = [];
  if (configValue === 'n') reasons.push(`${symbol} is not set (${configSource})`);
  else if (configValue === 'm' && treePath === undefined) {
    reasons.push(`${symbol}=m in ${configSource}, but no ${module}.ko in ${facts.tree?.source ?? `/lib/modules/${facts.release.release}`} (is the kernel's modules package installed?)`);
  } else if (configValue === undefined && facts.config !== null) reasons.push(`${symbol} does not appear in ${configSource}`);
  if (supported === false) reasons.push('the kernel cannot load modules (CONFIG_MODULES is not set)');
  if (treePath === undefined && facts.tree === null && supported !== false) reasons.push(`no module tree at /lib/modules/${facts.release.release}`);
  if (facts.config === null) reasons.push('no kernel config found to say more (/proc/config.gz, /boot/config-<release>)');
  if (reasons.length === 0) reasons.push(`not loaded, not built in, and not in the module tree of ${facts.release.release}`);
  return { name: module, state: 'absent', evidence: reasons.join('; ') };
}
