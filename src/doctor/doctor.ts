// doctor: the "why can't kube-proxy start IPVS mode" checklist, made executable.
import type { Settings } from '../config/settings.js';
import type { Check, DoctorReport } from './check.js';
import { reportOf } from './check.js';
import { evaluateKernel, evaluateMode, evaluatePrivileges, evaluateUserspace, moduleStatuses } from './evaluate.js';
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

export function evaluateDoctor(settings: Settings, facts: DoctorFacts): DoctorReport {
  const needLoading = modulesNeedLoading(settings, facts);
  return reportOf([
    ...evaluateMode(settings),
    ...evaluateKernel(settings, facts.kernel),
    ...evaluateUserspace(facts.tools, needLoading),
    evaluatePrivileges(facts.privileges, needLoading),
    ...facts.providerChecks.map(asAdvisory),
  ]);
}
