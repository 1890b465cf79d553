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
