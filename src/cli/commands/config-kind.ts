import { ExitCode } from '../../errors.js';
import { KIND_RELEASE, pinnedKindVersions } from '../../kind/images.js';
import { planKindConfigFor } from '../../kubeproxy/kind-config.js';
import { settingsFor } from '../args.js';
import type { CommandModule } from '../command.js';
import { GENERATE_NOTE, printDocuments } from './config-generate.js';

export const command: CommandModule = {
  usage: '[setting flags]',
  description: `Prints a kind Cluster (kind.x-k8s.io/v1alpha4) for \`kind create cluster --config\`:
networking.kubeProxyMode, the subnets and IP family, a control plane plus KIND_WORKERS
workers on the node image pinned by digest for KUBE_VERSION (kind ${KIND_RELEASE} pins
${pinnedKindVersions()}; KIND_NODE_IMAGE overrides it), and a KubeProxyConfiguration
patch (kubeadmConfigPatches) with the IPVS settings kind has no field for.

${GENERATE_NOTE}`,
  settings: true,
  async run(io, commandLine) {
    const resolved = settingsFor(io, commandLine);
    const plan = planKindConfigFor(resolved);
    printDocuments(io, [plan.document], plan.warnings);
    return ExitCode.ok;
  },
};
