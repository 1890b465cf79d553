import { formatKubeVersion } from '../../config/kube-version.js';
import { evaluateDoctor } from '../../doctor/doctor.js';
import { gatherDoctorFacts } from '../../doctor/gather.js';
import { renderChecklist, renderChecks } from '../../doctor/render.js';
import { ExitCode } from '../../errors.js';
import { discardLog } from '../../log/run-log.js';
import { loadProvider } from '../../providers/provider.js';
import { providerContext } from '../../steps/cluster.js';
import { LocalHost } from '../../exec/host.js';
import { flagOption, settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { jsonText } from '../../io/output.js';
import { withProgress } from '../../steps/progress.js';

export const command: CommandModule = {
  usage: '[--json] [setting flags]',
  description: `Checks, before anything is started, whether this machine can run kube-proxy in IPVS mode,
and what to do if not: the proxy mode for the Kubernetes version (SupportIPVSProxyMode gate,
deprecation), the kernel (IPVS support and every required module: loaded, built in, loadable
or absent), ipset/iptables/modprobe/conntrack, privileges to load modules, and the provider's tools.
IPVS checks run whatever KUBE_PROXY_MODE says; \`up\` only requires them in ipvs mode.
Problems with the provider's tools (container engine, kind, kubectl, kube binaries) are shown as
warnings: they stop \`up\`, not IPVS. Exit 0 when nothing fails, 1 when a check fails.`,
  options: { json: { type: 'boolean', description: 'print only JSON: {"ok", "kernel": {"judged", "release", "description", "how", "why"}, "checks": [{"id", "title", "status", "detail", "fix"}]}' } },
  settings: true,
  async run(io, commandLine) {
    const json = flagOption(commandLine.values, 'json');
    const resolved = settingsFor(io, commandLine);
    const settings = resolved.values;
    const ctx = providerContext({ io, resolved, log: discardLog, progress: (line) => (json || !io.interactive ? undefined : io.err(`${line}\n`)) });
    const deps = {
      host: new LocalHost(io.runner, settings.hostRoot),
      runner: io.runner,
      env: io.env,
      uid: process.getuid?.() ?? -1,
      providerChecks: async () => (await loadProvider(settings.provider)).checks(ctx),
      kernelSite: async () => (await loadProvider(settings.provider)).kernelSite?.(ctx) ?? null,
    };
    const facts = await withProgress(io, 'Reading the kernel, tools and privileges', () => gatherDoctorFacts(deps), { quiet: json || !io.interactive });
    const report = evaluateDoctor(settings, facts);
    if (json) {
      io.out(jsonText(report));
    } else {
      const kernel = facts.site.shared ? ('error' in facts.kernel ? 'unknown kernel' : `Linux ${facts.kernel.release.release}`) : facts.site.description;
      io.out(`doctor: KUBE_PROXY_MODE=${settings.proxyMode}, Kubernetes ${formatKubeVersion(settings.kubeVersion)}, IPVS_SCHEDULER=${settings.scheduler}, provider ${settings.provider}, ${kernel}\n\n`);
      if (io.outputIsTerminal) await renderChecklist(report);
      else io.out(renderChecks(report));
    }
    return report.ok ? ExitCode.ok : ExitCode.failed;
  },
};
