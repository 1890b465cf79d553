// kind node images pinned by digest. Images are built for one kind release and
// only guaranteed to work with it, so every pin comes from one release's notes.
import { formatKubeVersion } from '../config/kube-version.js';
import type { KubeVersion } from '../config/kube-version.js';

/**
 * The kind release the pins come from.
 * Source: the v0.33.0 release notes ("Images pre-built for this release"),
 * https://github.com/kubernetes-sigs/kind/releases/tag/v0.33.0, as quoted in
 * polarsquad/krops PR #112 (2026-08-31); the same four digests appear in
 * kubernetes-sigs/cluster-api test/infrastructure/kind/mapper.go
 * ("Pre-built images for Kind v0.33") and kind PR #4248 made v1.37.0 the default.
 */
export const KIND_RELEASE = 'v0.33.0';

export interface KindNodeImage {
  readonly kubernetes: string;
  readonly image: string;
}

/** Newest first; one image per Kubernetes minor. */
export const KIND_NODE_IMAGES: readonly KindNodeImage[] = [
  { kubernetes: '1.37.0', image: 'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5' },
  { kubernetes: '1.36.4', image: 'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed' },
  { kubernetes: '1.35.8', image: 'kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0' },
  { kubernetes: '1.34.11', image: 'kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d' },
];

export interface NodeImageChoice {
  readonly image: string;
  /** Set when the pinned image carries another patch release than the one asked for. */
  readonly patchNote?: string;
}

/**
 * The pinned image for a Kubernetes version: matched by minor (kind ships one
 * patch per minor). Returns null when the release pins no image for it.
 */
export function findKindNodeImage(version: KubeVersion): NodeImageChoice | null {
  const pin = KIND_NODE_IMAGES.find((p) => p.kubernetes.startsWith(`${version.major}.${version.minor}.`));
  if (pin === undefined) return null;
  const asked = formatKubeVersion(version);
  if (version.patch !== null && pin.kubernetes !== asked) {
    return {
      image: pin.image,
      patchNote: `kind ${KIND_RELEASE} ships Kubernetes ${pin.kubernetes} for ${version.major}.${version.minor}, not ${asked}; using ${pin.kubernetes} (set KIND_NODE_IMAGE for another build)`,
    };
  }
  return { image: pin.image };
}

/** "1.34.11, 1.35.8, ..." for messages. */
export const pinnedKindVersions = (): string => KIND_NODE_IMAGES.map((p) => p.kubernetes).reverse().join(', ');
