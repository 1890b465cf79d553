// Reads the facts about a kernel that decide whether IPVS mode can work there.
// Every read goes through a Host, so the same probe serves this machine, a kind
// node and the lab VM.
import { unavailableError } from '../errors.js';
import type { Host } from '../exec/host.js';
import type { KernelFacts } from './modules.js';
import { modulesFromPaths, parseKernelConfig, parseKernelRelease, parseModulesBuiltin, parseModulesDep, parseProcModules } from './modules.js';

const UNAME_TIMEOUT_MS = 10_000;
/** Bounds the fallback walk of a module tree that has no modules.dep. */
const MAX_WALK_ENTRIES = 50_000;

export async function readKernelRelease(host: Host): Promise<string> {
  const fromProc = await host.readFile('/proc/sys/kernel/osrelease');
  if (fromProc !== null && fromProc.trim() !== '') return fromProc.trim();
  const uname = await host.run('uname', ['-r'], { timeoutMs: UNAME_TIMEOUT_MS });
  if (uname.exitCode === 0 && uname.stdout.trim() !== '') return uname.stdout.trim();
  throw unavailableError(`cannot tell the kernel release of ${host.description}`, {
    details: uname.stderr,
    hint: 'kube-local-up reads /proc/sys/kernel/osrelease (or runs uname -r); is /proc mounted?',
  });
}

export async function probeKernel(host: Host): Promise<KernelFacts> {
  const releaseText = await readKernelRelease(host);
  const release = parseKernelRelease(releaseText);
  if (release === null) throw unavailableError(`unrecognised kernel release "${releaseText}" on ${host.description}`);
  const moduleDir = `/lib/modules/${release.release}`;

  const [config, procModules, sysModule, builtinText, depText] = await Promise.all([
    readKernelConfig(host, release.release),
    host.readFile('/proc/modules'),
    host.listDir('/sys/module'),
    host.readFile(`${moduleDir}/modules.builtin`),
    host.readFile(`${moduleDir}/modules.dep`),
  ]);

  let tree: KernelFacts['tree'] = null;
  if (depText !== null) tree = { source: `${moduleDir}/modules.dep`, modules: parseModulesDep(depText) };
  else {
    const walked = await walkModuleTree(host, `${moduleDir}/kernel/net`);
    if (walked !== null) tree = { source: `${moduleDir}/kernel/net`, modules: modulesFromPaths(walked) };
  }

  return {
    release,
    config,
    loaded: procModules === null ? null : parseProcModules(procModules),
    sysModule: sysModule === null ? null : new Set(sysModule),
    builtin: builtinText === null ? null : { source: `${moduleDir}/modules.builtin`, modules: parseModulesBuiltin(builtinText) },
    tree,
  };
}

/** The running kernel's config: /proc/config.gz, else Debian's /boot/config-<release>; null when neither is there. */
export async function readKernelConfig(host: Host, release: string): Promise<KernelFacts['config']> {
  const fromProc = await host.readFile('/proc/config.gz', { gunzip: true });
  if (fromProc !== null) return { source: '/proc/config.gz', values: parseKernelConfig(fromProc) };
  const fromBoot = await host.readFile(`/boot/config-${release}`);
  return fromBoot === null ? null : { source: `/boot/config-${release}`, values: parseKernelConfig(fromBoot) };
}

/** Lists module files under a directory; null when it does not exist. */
async function walkModuleTree(host: Host, root: string): Promise<string[] | null> {
  const top = await host.listDir(root);
  if (top === null) return null;
  const files: string[] = [];
  const queue: string[] = top.map((name) => `${root}/${name}`);
  let seen = 0;
  while (queue.length > 0 && seen < MAX_WALK_ENTRIES) {
    const path = queue.shift() as string;
    seen++;
    if (/\.ko(\.(xz|gz|zst))?$/.test(path)) {
      files.push(path);
      continue;
    }
    const children = await host.listDir(path);
    if (children !== null) queue.push(...children.map((name) => `${path}/${name}`));
  }
  return files;
}

/** The kernel's timer frequency, needed to turn /proc/net/ip_vs jiffies into seconds. */
export function kernelHz(facts: Pick<KernelFacts, 'config'>): number | null {
  const value = facts.config?.values.get('CONFIG_HZ');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}
