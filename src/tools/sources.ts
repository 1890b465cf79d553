// Where official release archives are, and what is inside them, as data.
//
// Kubernetes: cluster/get-kube-binaries.sh (k8s.io/kubernetes) downloads
// ${KUBERNETES_RELEASE_URL:-https://dl.k8s.io}/<version>/kubernetes-server-linux-<arch>.tar.gz;
// CHANGELOG/CHANGELOG-1.x.md publishes each archive's SHA-512, and dl.k8s.io serves it
// beside the archive as <archive>.sha512. The archive holds kubernetes/server/bin/<binary>.
// etcd: the release assets are etcd-v<version>-linux-<arch>.tar.gz with a SHA256SUMS file
// beside them (etcd's release script, scripts/release.sh), holding etcd-v<version>-linux-<arch>/etcd.
import type { KubeVersion } from '../config/kube-version.js';
import { formatKubeVersion } from '../config/kube-version.js';

/** Go's architecture names, which both projects use in asset names. */
export function goArch(nodeArch: string): string | null {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', s390x: 's390x', ppc64: 'ppc64le' };
  return map[nodeArch] ?? null;
}

export interface ArchiveSource {
  readonly url: string;
  /** Where the published checksum is. */
  readonly checksumUrl: string;
  readonly algorithm: 'sha256' | 'sha512';
  /** The checksum file's entry for the archive (SHA256SUMS lists several). */
  readonly checksumEntry: string;
  /** tar members to extract, and how many leading path parts to drop. */
  readonly members: readonly string[];
  readonly stripComponents: number;
}

export function kubernetesServerArchive(base: string, v: KubeVersion, arch: string): ArchiveSource {
  const file = `kubernetes-server-linux-${arch}.tar.gz`;
  const url = `${base.replace(/\/+$/, '')}/v${formatKubeVersion(v)}/${file}`;
  return { url, checksumUrl: `${url}.sha512`, algorithm: 'sha512', checksumEntry: file, members: [], stripComponents: 3 };
}

export function etcdArchive(base: string, version: string, arch: string): ArchiveSource {
  const file = `etcd-v${version}-linux-${arch}.tar.gz`;
  const dir = `${base.replace(/\/+$/, '')}/v${version}`;
  return { url: `${dir}/${file}`, checksumUrl: `${dir}/SHA256SUMS`, algorithm: 'sha256', checksumEntry: file, members: [`etcd-v${version}-linux-${arch}/etcd`, `etcd-v${version}-linux-${arch}/etcdctl`], stripComponents: 1 };
}

/**
 * The digest for one file from a checksum file: a bare digest (dl.k8s.io's .sha512), or
 * sha256sum-style lines "<digest>  <file>" (SHA256SUMS). null when it is not there.
 */
export function digestFromChecksumFile(text: string, entry: string, algorithm: 'sha256' | 'sha512'): string | null {
  const length = algorithm === 'sha256' ? 64 : 128;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const hex = new RegExp(`^[0-9a-fA-F]{${length}}$`);
  if (lines.length === 1) {
    const words = (lines[0] as string).split(/\s+/);
    if (words.length === 1 && hex.test(words[0] as string)) return (words[0] as string).toLowerCase();
  }
  for (const line of lines) {
    const match = /^([0-9a-fA-F]+)\s+\*?(\S+)$/.exec(line);
    if (match !== null && hex.test(match[1] as string) && (match[2] === entry || (match[2] as string).endsWith(`/${entry}`))) return (match[1] as string).toLowerCase();
  }
  return null;
}
