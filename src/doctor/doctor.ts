// doctor: the "why can't kube-proxy start IPVS mode" checklist, made executable.
import type { Settings } from '../config/settings.js';
import type { DoctorReport } from './check.js';
import { reportOf } from './check.js';
import { evaluateKernel, evaluateMode, evaluatePrivileges, evaluateUserspace, moduleStatuses } from './evaluate.js';
import type { DoctorFacts } from './gather.js';
import { evaluateProvider } from './provider.js';

/** True when some required module exists but is not loaded yet. */
export function modulesNeedLoading(settings: Settings, facts: DoctorFacts): boolean {
  if ('error' in facts.kernel) return false;
  return moduleStatuses(facts.kernel, settings.scheduler).some((s) => s.state === 'loadable');
}

export function evaluateDoctor(settings: Settings, facts: DoctorFacts): DoctorReport {
  const needLoading = modulesNeedLoading(settings, facts);
  return reportOf([
    ...evaluateMode(settings),
    ...evaluateKernel(settings, facts.kernel),
    ...evaluateUserspace(facts.tools, needLoading),
    evaluatePrivileges(facts.privileges, needLoading),
    ...evaluateProvider(facts.provider),
  ]);
}
