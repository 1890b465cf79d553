// Shared by `config kind`, `config kubeadm` and `config kube-proxy`: turns the
// resolved settings into planner input and prints YAML to stdout, warnings to
// stderr (so stdout stays a valid YAML stream).
import { renderYamlDocuments } from '../../kubeproxy/render.js';
import type { Io } from '../../io/io.js';

export function printWarnings(io: Io, warnings: readonly string[]): void {
  for (const warning of warnings) io.err(`warning: ${warning}\n`);
}

export function printDocuments(io: Io, documents: readonly unknown[], warnings: readonly string[]): void {
  printWarnings(io, warnings);
  io.out(renderYamlDocuments(documents));
}

export const GENERATE_NOTE = `Settings come from flags, the environment and .env (see \`local-up config show\`):
KUBE_VERSION (--k8s-version), KUBE_PROXY_MODE (--mode), the IPVS_* tuning settings,
FEATURE_GATES, NODEPORT_ADDRESSES. A setting the Kubernetes version cannot honour
is an error (exit 2) naming the release that added it; fields the version does
not know are never written. YAML goes to stdout, warnings to stderr.`;
