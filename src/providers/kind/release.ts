// The kind release kube-local-up installs when no kind is found: the same
// release the node images are pinned from (src/kind/images.ts), each asset
// pinned by SHA-256.
import { KIND_RELEASE } from '../../kind/images.js';

export const KIND_VERSION = KIND_RELEASE;

/**
 * SHA-256 of each v0.33.0 asset, as published beside it (<asset>.sha256sum).
 * Source: the values pinned for v0.33.0 in cert-manager/makefile-modules
 * modules/tools/00_mod.mk (kind_<os>_<arch>_SHA256SUM); the same four values
 * are pinned independently by several other public projects' install scripts.
 * NOTE: not downloaded and re-hashed here (this machine cannot reach GitHub).
 */
export const KIND_SHA256: Readonly<Record<string, string>> = {
  'kind-linux-amd64': 'aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d',
  'kind-linux-arm64': '20022bee6cfcd5086cb7234d218e3454e6090022f2a8f55d1fa7fcf42c3867a2',
  'kind-darwin-amd64': '5a99f26f57246dc9319dd294803313197a0f34d33c525b3ea8b655db5916ece0',
  'kind-darwin-arm64': '0c8c7dbe5e23594a198b786c4bc13dacc101fa6196b0cb0b23a1ca44e61f4b4f',
};

/**
 * Reads `kind version`: "kind v0.33.0 go1.26.8 linux/amd64" (kind pkg/cmd/kind/version/version.go:
 * "kind " + the version, the Go version, GOOS/GOARCH; a build between releases says "v0.34.0-alpha+<commit>").
 */
export function parseKindVersion(text: string): { readonly version: string; readonly major: number; readonly minor: number; readonly patch: number } | null {
  const match = /^kind (v(\d+)\.(\d+)\.(\d+)\S*)/.exec(text.trim());
  if (match === null) return null;
  return { version: match[1] as string, major: Number(match[2]), minor: Number(match[3]), patch: Number(match[4]) };
}

export type KindVersionVerdict =
  | { readonly status: 'pass'; readonly detail: string }
  | { readonly status: 'warn' | 'fail'; readonly detail: string; readonly fix: string };

/**
 * Is this kind the release the node images are pinned for (src/kind/images.ts)? Node images are built
 * for one kind release and only guaranteed to work with it: kind v0.32 changed the kubeadm config API
 * it renders for Kubernetes 1.36+ (kind pkg/cluster/internal/kubeadm/config.go picks the template by
 * the node's Kubernetes version), so an older kind with a newer image, or the reverse, fails inside
 * kubeadm. Same minor release: fine. KIND_NODE_IMAGE set: the user chose the image for their kind.
 */
export function judgeKindVersion(versionText: string | null, nodeImage: string, managedPath: string): KindVersionVerdict {
  const pinned = parseKindVersion(`kind ${KIND_VERSION}`);
  const found = versionText === null ? null : parseKindVersion(versionText);
  const fix = `use the pinned kind ${KIND_VERSION}: \`local-up tools install kind\` installs it at ${managedPath} (then set KIND=${managedPath} or put it first on PATH), or set KIND_NODE_IMAGE to a node image built for your kind (its release notes list them)`;
  if (pinned === null) throw new Error(`bad KIND_VERSION ${KIND_VERSION}`);
  if (found === null) {
    return { status: 'warn', detail: `cannot read kind's version from ${JSON.stringify(versionText ?? '')}; the node images are pinned for kind ${KIND_VERSION}`, fix };
  }
  if (found.major === pinned.major && found.minor === pinned.minor) return { status: 'pass', detail: `kind ${found.version}: the node images are pinned for kind ${KIND_VERSION}` };
  if (nodeImage !== '') {
    return { status: 'warn', detail: `kind ${found.version}, KIND_NODE_IMAGE=${nodeImage} (the pinned images are for kind ${KIND_VERSION}; yours must be built for ${found.version})`, fix };
  }
  return { status: 'fail', detail: `kind ${found.version}, but the node images are pinned for kind ${KIND_VERSION} (node images only work with the kind release they were built for)`, fix };
}

/** kind's asset name for a Node platform/arch ("kind-linux-amd64"), or null when kind ships none we pin. */
export function kindAssetName(platform: string, arch: string): string | null {
  const os = platform === 'linux' || platform === 'darwin' ? platform : null;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : null;
  if (os === null || cpu === null) return null;
  const name = `kind-${os}-${cpu}`;
  return KIND_SHA256[name] === undefined ? null : name;
}

/** `<base>/<version>/<asset>`, the layout of GitHub release downloads (and of mirrors of them). */
export const kindDownloadUrl = (base: string, asset: string, version: string = KIND_VERSION): string => `${base.replace(/\/+$/, '')}/${version}/${asset}`;

/** Where the managed copy lives: TOOLS_DIR/kind-<version>. */
export const managedKindFile = (toolsDir: string, version: string = KIND_VERSION): string => `${toolsDir.replace(/\/+$/, '')}/kind-${version}`;
