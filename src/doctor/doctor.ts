// doctor: the "why can't kube-proxy start IPVS mode" checklist, made executable.
import type { Settings } from '../config/settings.js';
import type { Check, DoctorReport, JudgedKernel } from './check.js';
import { check, reportOf } from './check.js';
import { evaluateKernel, evaluateMode, evaluatePrivileges, evaluateUserspace, moduleStatuses } from './evaluate.js';
import type { KernelContext } from './evaluate.js';
import type { DoctorFacts } from './gather.js';

/** True when some required module exists but is not loaded yet. */
export function modulesNeedLoading(settings: Settings, facts: DoctorFacts): boolean {
  if ('error' in facts.kernel) return false;
  return moduleStatuses(facts.kernel, settings.scheduler).some((s) => s.state === 'loadable');
}

/**
 * doctor's verdict is whether this machine can run kube-proxy in IPVS mode. The
 * provider's tools decide whether `up` can start a cluster here, which is a
 * different question (the lab VM, a CI runner without Docker): doctor shows
 * their problems as warnings, and `up`'s preflight stops on the same checks.
 */
export function asAdvisory(check: Check): Check {
  return check.status === 'fail' ? { ...check, status: 'warn', detail: `${check.detail} (\`up\` stops on this)` } : check;
}

/** Which kernel was judged and why, as a check and as the report's `kernel`. */
export function judgedKernel(facts: Pick<DoctorFacts, 'kernel' | 'site'>): { check: Check; kernel: JudgedKernel } {
  const site = facts.site;
  const release = 'error' in facts.kernel ? site.release : facts.kernel.release.release;
  const kernel: JudgedKernel = { judged: site.shared ? 'this machine' : 'engine', release, description: site.description, how: site.how, why: site.why };
  const what = `${release === null ? 'an unread kernel' : `Linux ${release}`} ${site.shared ? `on ${site.description}` : `in ${site.description.replace(/^Linux \S+ in /, '')}`}`;
  return { check: check('kernel.site', 'Kernel judged (where kube-proxy will run)', 'pass', `${what}: ${site.why}\nread by: ${site.how}`), kernel };
}

/** How the kernel checks word their fixes for this site. */
export function kernelContextOf(site: DoctorFacts['site']): KernelContext {
  return {
    rootless: site.rootless,
    ...(site.shared ? {} : { loadHint: `\`up\` loads it in ${site.description} through a short-lived privileged container (${site.how.split(':')[0] ?? ''}), before it creates the cluster` }),
  };
}

/** Host-side checks that do not apply when kube-proxy's kernel is not this machine's. */
function notHere(checks: readonly Check[], site: DoctorFacts['site']): Check[] {
  return checks.map((c) => ({ ...c, status: 'skip' as const, detail: `not needed here: kube-proxy runs in ${site.description}, whose node image has its own tools (${c.detail})`, fix: null }));
}

export function evaluateDoctor(settings: Settings, facts: DoctorFacts): DoctorReport {
  const needLoading = modulesNeedLoading(settings, facts);
  const judged = judgedKernel(facts);
  const hostSide = [...evaluateUserspace(facts.tools, needLoading), evaluatePrivileges(facts.privileges, needLoading)];
  const report = reportOf([
    ...evaluateMode(settings),
    judged.check,
    ...evaluateKernel(settings, facts.kernel, undefined, kernelContextOf(facts.site)),
    ...(facts.site.shared ? hostSide : notHere(hostSide, facts.site)),
    ...facts.providerChecks.map(asAdvisory),
  ]);
  return { ok: report.ok, kernel: judged.kernel, checks: report.checks };
}
