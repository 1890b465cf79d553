import { ExitCode } from '../../errors.js';
import { planKubeProxyConfig } from '../../kubeproxy/config.js';
import { flagOption, settingsFor, stringOption } from '../args.js';
import type { CommandModule } from '../command.js';
import { ipvsTuningOf } from '../../kubeproxy/validate.js';
import { GENERATE_NOTE, printDocuments, printWarnings } from './config-generate.js';

/** Like local-up-cluster.sh: a kube-proxy on your host leaves the host's conntrack sysctls as they are. */
const LEAVE_HOST_CONNTRACK = { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' } as const;

export const command: CommandModule = {
  usage: '[--flags] [--hostname-override NAME] [--kubeconfig PATH] [setting flags]',
  description: `Prints the KubeProxyConfiguration for running kube-proxy yourself
(--config FILE), in the form KUBE_VERSION's kube-proxy reads: componentconfig/v1alpha1
before 1.9, featureGates as a string before 1.10, only the fields that release knows.
With --flags it prints the equivalent kube-proxy flags instead, one per line (before
1.7 kube-proxy has no config file, so flags are printed either way). Like
local-up-cluster.sh, it sets conntrack maxPerCore 0 and the conntrack TCP timeouts
to 0s so kube-proxy leaves the host's conntrack sysctls alone.

${GENERATE_NOTE}`,
  options: {
    flags: { type: 'boolean', description: 'print kube-proxy flags, one per line, instead of YAML' },
    'hostname-override': { type: 'string', value: 'NAME', description: 'hostnameOverride: the Node name kube-proxy uses to find local endpoints' },
    kubeconfig: { type: 'string', value: 'PATH', description: 'clientConnection.kubeconfig: how kube-proxy reaches the API server' },
    'metrics-bind-address': { type: 'string', value: 'IP:PORT', description: "metricsBindAddress (kube-proxy's default: 127.0.0.1:10249)" },
    'healthz-bind-address': { type: 'string', value: 'IP:PORT', description: "healthzBindAddress (kube-proxy's default: 0.0.0.0:10256)" },
  },
  settings: true,
  async run(io, commandLine) {
    const resolved = settingsFor(io, commandLine);
    const s = resolved.values;
    const values = commandLine.values;
    const wantFlags = flagOption(values, 'flags');
    const optional = (name: string) => stringOption(values, name);
    const hostnameOverride = optional('hostname-override');
    const kubeconfig = optional('kubeconfig');
    const metrics = optional('metrics-bind-address');
    const healthz = optional('healthz-bind-address');
    const plan = planKubeProxyConfig({
      version: s.kubeVersion,
      mode: s.proxyMode,
      featureGates: s.featureGates,
      clusterCidr: s.clusterCidr,
      ...(hostnameOverride === undefined ? {} : { hostnameOverride }),
      ...(kubeconfig === undefined ? {} : { kubeconfig }),
      ...(metrics === undefined ? {} : { metricsBindAddress: metrics }),
      ...(healthz === undefined ? {} : { healthzBindAddress: healthz }),
      nodePortAddresses: s.nodePortAddresses,
      ipvs: ipvsTuningOf(resolved.values),
      conntrack: LEAVE_HOST_CONNTRACK,
      flagsRequired: wantFlags,
    });
    if (wantFlags || plan.document === null) {
      printWarnings(io, plan.warnings);
      io.out(plan.flags.map((flag) => `${flag}\n`).join(''));
    } else {
      printDocuments(io, [plan.document], plan.warnings);
    }
    return ExitCode.ok;
  },
};
