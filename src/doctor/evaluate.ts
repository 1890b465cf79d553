// Turns facts about the machine into doctor checks. Pure: the facts are read
// elsewhere (src/doctor/gather.ts), so every rule here is tested with recorded
// kernels and tool outputs.
import { formatKubeVersion } from '../config/kube-version.js';
import type { Settings } from '../config/settings.js';
import type { KernelFacts, ModuleStatus } from '../kernel/modules.js';
import { PERSIST_FILE } from '../kernel/load.js';
import { classifyModule, conntrackModule, moduleSupport, requiredModules } from '../kernel/modules.js';
import { IPVS_GATE, ipvsTuningOf, validateIpvsTuning, validateProxyModeForVersion } from '../kubeproxy/validate.js';
import { ipvsGateStage, lastBefore, reached, since } from '../kubeproxy/versions.js';
import type { Check } from './check.js';
import { check } from './check.js';
import type { ToolFact } from './tools.js';
import { parseDottedVersion } from './tools.js';

/** Where else to run, for a kernel without IPVS: doctor, modules and assert work in the lab. */
const LAB_HINT = 'or run inside the lab, a VM with a real IPVS kernel: npx local-up lab -- <command>';
/** For `up`: the lab has no container engine or network, so a cluster cannot run there. */
export const UP_ELSEWHERE_HINT =
  'or run up on a machine or VM whose kernel has IPVS (stock Debian and Ubuntu kernels ship it as modules), or choose KUBE_PROXY_MODE=nftables or iptables';

/** What the SupportIPVSProxyMode gate means for this version, in words (the verdict comes from validate.ts). */
function gateNote(version: Settings['kubeVersion']): string {
  switch (ipvsGateStage(version)) {
    case 'unavailable':
      return `IPVS mode does not exist before ${since('ipvsAlpha')}`;
    case 'required':
      return `${IPVS_GATE}=true is required on ${since('ipvsAlpha')}-${lastBefore('ipvsGateDefaultOn')}; kube-local-up passes it`;
    case 'default-on':
      return `${IPVS_GATE} is beta and on by default in ${since('ipvsGateDefaultOn')}`;
    case 'ga':
      return `${IPVS_GATE} is GA (${since('ipvsGateGA')}-${lastBefore('ipvsGateRemoved')}); not passed`;
    case 'removed':
      return `${IPVS_GATE} was removed after ${lastBefore('ipvsGateRemoved')} and is not passed`;
  }
}

/**
 * The mode checks. The verdicts come from the same validators the config
 * generators use (src/kubeproxy/validate.ts), so doctor and `up` always agree.
 */
export function evaluateMode(settings: Settings): Check[] {
  const mode = settings.proxyMode;
  const v = formatKubeVersion(settings.kubeVersion);
  const modeCheck = validateProxyModeForVersion(mode, settings.kubeVersion, settings.featureGates);
  const tuning = validateIpvsTuning(ipvsTuningOf(settings), mode, settings.kubeVersion);
  const checks: Check[] = [
    check(
      'mode.proxy-mode',
      'Proxy mode requested',
      'pass',
      mode === 'ipvs' ? 'KUBE_PROXY_MODE=ipvs' : `KUBE_PROXY_MODE=${mode}; kube-proxy will not use IPVS (the checks below still say whether this machine could)`,
    ),
  ];

  const gateErrors = modeCheck.errors.filter((e) => e.includes(IPVS_GATE));
  const gateWarnings = modeCheck.warnings.filter((w) => w.includes(IPVS_GATE));
  checks.push(
    gateErrors.length > 0
      ? check('mode.feature-gate', `${IPVS_GATE} feature gate`, 'fail', gateErrors.join('; '), `remove ${IPVS_GATE} from FEATURE_GATES`)
      : gateWarnings.length > 0
        ? check('mode.feature-gate', `${IPVS_GATE} feature gate`, 'warn', gateWarnings.join('; '), `remove ${IPVS_GATE} from FEATURE_GATES`)
        : check('mode.feature-gate', `${IPVS_GATE} feature gate`, mode === 'ipvs' ? 'pass' : 'skip', mode === 'ipvs' ? `Kubernetes ${v}: ${gateNote(settings.kubeVersion)}` : 'only matters in ipvs mode'),
  );

  const otherErrors = [...modeCheck.errors.filter((e) => !e.includes(IPVS_GATE)), ...tuning.errors];
  const otherWarnings = [...modeCheck.warnings.filter((w) => !w.includes(IPVS_GATE)), ...tuning.warnings];
  const deprecated = mode === 'ipvs' && reached(settings.kubeVersion, 'ipvsDeprecated');
  const added = Object.keys(modeCheck.featureGates).filter((gate) => settings.featureGates[gate] === undefined);
  checks.push(
    otherErrors.length > 0
      ? check('mode.version', `Kubernetes ${v} can run this configuration`, 'fail', otherErrors.join('; '), 'change the settings named above')
      : otherWarnings.length > 0
        ? check('mode.version', `Kubernetes ${v} can run this configuration`, 'warn', otherWarnings.join('; '), deprecated ? 'plan a move to KUBE_PROXY_MODE=nftables; IPVS still works for now' : null)
        : check('mode.version', `Kubernetes ${v} can run this configuration`, 'pass', `${mode} mode and the IPVS settings work on Kubernetes ${v}${added.length > 0 ? `; kube-local-up adds ${added.map((g) => `${g}=true`).join(', ')}` : ''}`),
  );
  return checks;
}

/** The kernel's verdict for each required module (and `extra` ones), in load order. */
export function moduleStatuses(kernel: KernelFacts, scheduler: string, extra: readonly string[] = []): ModuleStatus[] {
  return [...requiredModules(kernel.release, scheduler), ...extra].map((name) => classifyModule(name, kernel));
}

/** The file and the commands that preload IPVS's modules at boot (systemd-modules-load reads /etc/modules-load.d). */
export function preloadCommands(modules: readonly string[]): string {
  return `printf '%s\\n' ${modules.join(' ')} | sudo tee ${PERSIST_FILE} && sudo systemctl restart systemd-modules-load.service`;
}

export interface KernelContext {
  /**
   * A rootless engine runs the nodes: they cannot load modules, on demand or otherwise, so everything
   * must be loaded on the host beforehand (kind's rootless guide, site/content/docs/user/rootless.md).
   */
  readonly rootless?: boolean;
  /** How a loadable module gets loaded there, when not with `local-up modules load` on this machine. */
  readonly loadHint?: string;
}

/** @param elsewhere the last resort a failing check's fix offers (doctor: the lab; up: another machine or mode). */
export function evaluateKernel(settings: Settings, kernel: KernelFacts | { readonly error: string }, elsewhere: string = LAB_HINT, context: KernelContext = {}): Check[] {
  if ('error' in kernel) {
    return [check('kernel.release', 'Kernel', 'fail', kernel.error, 'run doctor where /proc and /lib/modules can be read')];
  }
  const checks: Check[] = [];
  const configNote = kernel.config === null ? 'no kernel config found (/proc/config.gz, /boot/config-<release>)' : `config from ${kernel.config.source}`;
  checks.push(check('kernel.release', 'Kernel', 'pass', `Linux ${kernel.release.release}; ${configNote}`));

  const statuses = moduleStatuses(kernel, settings.scheduler);
  const support = moduleSupport(kernel);
  const allPresent = statuses.every((s) => s.state === 'loaded' || s.state === 'builtin');
  if (support === true) {
    checks.push(check('kernel.modules-support', 'Loadable module support', 'pass', kernel.config?.values.get('CONFIG_MODULES') === 'y' ? `CONFIG_MODULES=y (${kernel.config.source})` : '/proc/modules exists'));
  } else if (support === false) {
    checks.push(allPresent
      ? check('kernel.modules-support', 'Loadable module support', 'pass', 'the kernel cannot load modules (CONFIG_MODULES is not set), but everything IPVS needs is built in')
      : check('kernel.modules-support', 'Loadable module support', 'fail', 'the kernel cannot load modules (CONFIG_MODULES is not set, no /proc/modules)', `use a kernel with module support or with IPVS built in, ${elsewhere}`));
  } else {
    checks.push(check('kernel.modules-support', 'Loadable module support', 'warn', 'cannot tell: no kernel config and no /proc/modules', null));
  }

  const ipvs = statuses.find((s) => s.name === 'ip_vs');
  if (ipvs !== undefined) {
    checks.push(ipvs.state === 'absent'
      ? check('kernel.ipvs', 'IPVS in the kernel', 'fail', `no IPVS support: ${ipvs.evidence}`, `use a kernel built with CONFIG_IP_VS=y or =m (and its ip_vs_* schedulers), ${elsewhere}`)
      : check('kernel.ipvs', 'IPVS in the kernel', 'pass', `ip_vs ${ipvs.evidence}`));
  }

  const conntrack = conntrackModule(kernel.release);
  for (const status of statuses) {
    const why = status.name === conntrack
      ? ` (Linux ${kernel.release.release} ${conntrack === 'nf_conntrack' ? 'is 4.19 or later: nf_conntrack_ipv4 was merged into nf_conntrack' : 'is older than 4.19'})`
      : status.name === `ip_vs_${settings.scheduler}` && !['rr', 'wrr', 'sh'].includes(settings.scheduler)
        ? ` (the IPVS_SCHEDULER=${settings.scheduler} module)`
        : '';
    const title = `Module ${status.name}${why}`;
    switch (status.state) {
      case 'loaded':
      case 'builtin':
        checks.push(check(`kernel.module.${status.name}`, title, 'pass', status.evidence));
        break;
      case 'loadable':
        checks.push(check(`kernel.module.${status.name}`, title, 'warn', status.evidence, context.loadHint ?? 'load it now with: local-up modules load (the kernel may also load it on demand)'));
        break;
      case 'absent':
        checks.push(check(`kernel.module.${status.name}`, title, 'fail', `absent: ${status.evidence}`, moduleFix(status.name, settings.scheduler, elsewhere)));
        break;
    }
  }

  const ipSet = classifyModule('ip_set', kernel);
  const ipSetTitle = 'IP sets in the kernel (kube-proxy keeps KUBE-CLUSTER-IP and friends there)';
  if (ipSet.state === 'absent') {
    checks.push(check('kernel.ip_set', ipSetTitle, 'fail', `absent: ${ipSet.evidence}`, `use a kernel with CONFIG_IP_SET (some cloud images ship it only in an extra modules package), ${elsewhere}`));
  } else if (ipSet.state === 'loadable' && context.rootless === true) {
    checks.push(check('kernel.ip_set', ipSetTitle, 'warn', `${ipSet.evidence}; a rootless engine's nodes cannot load it (not on demand either): it must be loaded on the host first`, `up loads it with the others; to have it at every boot: ${preloadCommands([...statuses.map((s) => s.name), 'ip_set'])}`));
  } else {
    checks.push(check('kernel.ip_set', ipSetTitle, 'pass', ipSet.state === 'loadable' ? `${ipSet.evidence}; loaded on demand when ipset first runs` : ipSet.evidence));
  }
  return checks;
}

function moduleFix(name: string, scheduler: string, elsewhere: string): string {
  if (name === `ip_vs_${scheduler}` && !['rr', 'wrr', 'sh'].includes(scheduler)) {
    return `this kernel has no "${scheduler}" IPVS scheduler: choose another IPVS_SCHEDULER (rr is always built with IPVS), or use a newer kernel`;
  }
  return `use a kernel that provides ${name} (built in or as a module), ${elsewhere}`;
}

export interface Tools {
  readonly ipset: ToolFact;
  readonly iptables: ToolFact;
  readonly modprobe: ToolFact;
  readonly conntrack: ToolFact;
  readonly ipvsadm: ToolFact;
}

const APT: Record<keyof Tools, string> = { ipset: 'ipset', iptables: 'iptables', modprobe: 'kmod', conntrack: 'conntrack', ipvsadm: 'ipvsadm' };
const MIN_IPSET: [number, number] = [6, 0];

function found(tool: ToolFact): string {
  return `${tool.path}${tool.versionText === null ? '' : `: ${tool.versionText}`}`;
}

export function evaluateUserspace(tools: Tools, modulesNeedLoading: boolean): Check[] {
  const install = (name: keyof Tools) => `install it: sudo apt-get install ${APT[name]} (Debian/Ubuntu) or your distribution's ${APT[name]} package`;
  const checks: Check[] = [];

  const { ipset } = tools;
  if (ipset.path === null) checks.push(check('userspace.ipset', 'ipset >= 6.0', 'fail', 'ipset not found on PATH or in the sbin folders; kube-proxy refuses IPVS mode without it ("error getting ipset version")', install('ipset')));
  else if (ipset.failure !== null) checks.push(check('userspace.ipset', 'ipset >= 6.0', 'fail', ipset.failure, 'kube-proxy runs `ipset --version` at start and refuses IPVS mode when it fails; repair or reinstall ipset'));
  else {
    const version = parseDottedVersion(ipset.versionText ?? '');
    const ok = version !== null && (version[0] > MIN_IPSET[0] || (version[0] === MIN_IPSET[0] && version[1] >= MIN_IPSET[1]));
    checks.push(ok
      ? check('userspace.ipset', 'ipset >= 6.0', 'pass', found(ipset))
      : check('userspace.ipset', 'ipset >= 6.0', 'fail', `${found(ipset)}; kube-proxy needs 6.0 or later`, install('ipset')));
  }

  const { iptables } = tools;
  checks.push(iptables.path === null
    ? check('userspace.iptables', 'iptables', 'fail', 'iptables not found; IPVS mode still programs iptables rules (masquerade, filters)', install('iptables'))
    : iptables.failure !== null
      ? check('userspace.iptables', 'iptables', 'fail', iptables.failure, 'repair or reinstall iptables')
      : check('userspace.iptables', 'iptables', 'pass', found(iptables)));

  const { modprobe } = tools;
  checks.push(modprobe.path === null
    ? check('userspace.modprobe', 'modprobe', modulesNeedLoading ? 'fail' : 'warn', 'modprobe not found; modules cannot be loaded', install('modprobe'))
    : check('userspace.modprobe', 'modprobe', 'pass', found(modprobe)));

  const { conntrack } = tools;
  checks.push(conntrack.path === null
    ? check('userspace.conntrack', 'conntrack', 'warn', 'conntrack not found; older kube-proxy releases use it to clear stale UDP entries, and kubeadm preflight asks for it before 1.32', install('conntrack'))
    : check('userspace.conntrack', 'conntrack', 'pass', found(conntrack)));

  const { ipvsadm } = tools;
  checks.push(ipvsadm.path === null
    ? check('userspace.ipvsadm', 'ipvsadm (optional, for debugging)', 'warn', 'ipvsadm not found; not needed (kube-proxy uses netlink, kube-local-up reads /proc/net/ip_vs), handy for looking yourself', install('ipvsadm'))
    : check('userspace.ipvsadm', 'ipvsadm (optional, for debugging)', 'pass', `${ipvsadm.path} (not run: it fails without IPVS in the kernel)`));
  return checks;
}

export type SudoState = 'passwordless' | 'needs-password' | 'absent';

export interface Privileges {
  readonly uid: number;
  readonly sudo: SudoState;
}

export function evaluatePrivileges(privileges: Privileges, modulesNeedLoading: boolean): Check {
  const title = 'Privileges to load kernel modules';
  if (privileges.uid === 0) return check('privileges', title, 'pass', 'running as root');
  if (privileges.sudo === 'passwordless') return check('privileges', title, 'pass', `uid ${privileges.uid}; passwordless sudo works (sudo -n true)`);
  const status = modulesNeedLoading ? (privileges.sudo === 'needs-password' ? 'warn' : 'fail') : 'warn';
  return privileges.sudo === 'needs-password'
    ? check('privileges', title, status, `uid ${privileges.uid}; sudo asks for a password`, 'local-up modules load will ask for it on a terminal; in CI, allow passwordless sudo for modprobe or load the modules before')
    : check('privileges', title, status, `uid ${privileges.uid}; not root and no sudo`, 'run `local-up modules load` as root (sudo), or ask an administrator to load the modules');
}
