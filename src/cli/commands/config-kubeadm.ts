import { ExitCode } from '../../errors.js';
import { planKubeadmConfig } from '../../kubeproxy/kubeadm.js';
import { settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { ipvsTuningOf } from '../../kubeproxy/validate.js';
import { GENERATE_NOTE, printDocuments } from './config-generate.js';

export const command: CommandModule = {
  usage: '[setting flags]',
  description: `Prints the \`kubeadm init --config\` documents for KUBE_VERSION with kube-proxy
in KUBE_PROXY_MODE: a kubeadm.k8s.io/v1alpha1 or v1alpha2 MasterConfiguration with
kube-proxy under kubeProxy.config for 1.9-1.11 (SupportIPVSProxyMode=true added on
1.9), then InitConfiguration + ClusterConfiguration (v1alpha3 1.12, v1beta1 1.13,
v1beta2 1.15, v1beta3 1.22, v1beta4 1.31+) and a separate KubeProxyConfiguration.
kubeadm manages hostnameOverride and the kube-proxy kubeconfig itself.

${GENERATE_NOTE}`,
  settings: true,
  async run(io, commandLine) {
    const resolved = settingsFor(io, commandLine);
    const s = resolved.values;
    const plan = planKubeadmConfig({
      version: s.kubeVersion,
      mode: s.proxyMode,
      serviceSubnet: s.serviceCidr,
      podSubnet: s.clusterCidr,
      featureGates: s.featureGates,
      ipvs: ipvsTuningOf(resolved.values),
      nodePortAddresses: s.nodePortAddresses,
    });
    printDocuments(io, plan.documents, plan.warnings);
    return ExitCode.ok;
  },
};
