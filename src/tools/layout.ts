// Where installed tool sets live and how a finished install is recognised:
// TOOLS_DIR/<tool>-<version>/bin/ plus a manifest written last. A folder without
// a manifest that parses is never trusted (an interrupted install leaves only
// TOOLS_DIR/.<tool>-<version>.partial-<pid>/, which the next install removes).
import { join } from 'node:path';

/** The seven binaries of a Kubernetes server release (kubernetes-server-linux-<arch>.tar.gz's server/bin). */
export const KUBERNETES_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl', 'kubeadm'] as const;
export type KubernetesBinary = (typeof KUBERNETES_BINARIES)[number];

export const TOOL_SETS = ['kubernetes', 'etcd', 'kind'] as const;
export type ToolSet = (typeof TOOL_SETS)[number];

export const MANIFEST_FILE = 'kube-local-up-install.json';

/**
 * The set's folder name: "kubernetes-1.34.11", "etcd-3.6.5" (no leading v), and "kind-source-v0.33.0" for a kind
 * built here (kind names its releases with the v; the downloaded kind stays the single file TOOLS_DIR/kind-<version>).
 */
export const setFolderName = (tool: ToolSet, version: string): string => (tool === 'kind' ? `kind-source-${version}` : `${tool}-${version}`);
export const toolSetDir = (toolsDir: string, tool: ToolSet, version: string): string => join(toolsDir, setFolderName(tool, version));
export const toolSetBinDir = (toolsDir: string, tool: ToolSet, version: string): string => join(toolSetDir(toolsDir, tool, version), 'bin');
export const partialPrefix = (tool: ToolSet, version: string): string => `.${setFolderName(tool, version)}.partial-`;

export interface InstalledBinary {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface InstallManifest {
  readonly tool: ToolSet;
  readonly version: string;
  /** download: an official archive; source: built here with Go from the module proxy. */
  readonly source: 'download' | 'source';
  /** The URL or module@version it came from. */
  readonly origin: string;
  readonly binaries: readonly InstalledBinary[];
  readonly installedAt: string;
  /** `go version` of the toolchain that built it (source only). */
  readonly go?: string;
  /** For kubernetes: the etcd version its hack/lib/etcd.sh names (the local provider's minimum). */
  readonly etcdVersion?: string;
}

/** Reads a manifest back; null when it is not one we wrote (a half-written or foreign file). */
export function parseManifest(text: string): InstallManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (typeof m.tool !== 'string' || !(TOOL_SETS as readonly string[]).includes(m.tool)) return null;
  if (typeof m.version !== 'string' || (m.source !== 'download' && m.source !== 'source') || typeof m.origin !== 'string' || typeof m.installedAt !== 'string') return null;
  if (!Array.isArray(m.binaries) || m.binaries.length === 0) return null;
  const binaries: InstalledBinary[] = [];
  for (const b of m.binaries as unknown[]) {
    if (typeof b !== 'object' || b === null) return null;
    const { name, sha256, bytes } = b as Record<string, unknown>;
    if (typeof name !== 'string' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256) || typeof bytes !== 'number') return null;
    binaries.push({ name, sha256, bytes });
  }
  return {
    tool: m.tool as ToolSet,
    version: m.version,
    source: m.source,
    origin: m.origin,
    binaries,
    installedAt: m.installedAt,
    ...(typeof m.go === 'string' ? { go: m.go } : {}),
    ...(typeof m.etcdVersion === 'string' ? { etcdVersion: m.etcdVersion } : {}),
  };
}

/** A set folder's name back to its tool and version ("kind-source-v0.33.0" → kind, v0.33.0); null for anything else. */
export function parseSetFolderName(name: string): { tool: ToolSet; version: string } | null {
  const match = /^(kubernetes|etcd|kind-source)-(v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/.exec(name);
  if (match === null) return null;
  return { tool: match[1] === 'kind-source' ? 'kind' : (match[1] as ToolSet), version: match[2] as string };
}
