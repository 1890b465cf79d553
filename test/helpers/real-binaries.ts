// Finds the real Kubernetes binaries the real-*.test.ts files run: the set
// `local-up tools install kubernetes [--from-source]` put in TOOLS_DIR for
// REAL_K8S_VERSION (default: KUBE_VERSION's default). Under CI=true (or
// REAL_BINARIES_REQUIRED=1) a missing set fails the run; elsewhere the tests
// skip with the command that installs it.
import { join } from 'node:path';
import { formatKubeVersion, parseKubeVersion } from '../../src/config/kube-version.js';
import type { KubeVersion } from '../../src/config/kube-version.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { readInstalledSet } from '../../src/tools/install.js';
import { toolSetBinDir } from '../../src/tools/layout.js';

export interface RealSet {
  readonly version: KubeVersion;
  readonly versionText: string;
  readonly binDir: string;
  readonly bin: (name: string) => string;
}

export const realRequired = (): boolean => process.env.CI === 'true' || process.env.REAL_BINARIES_REQUIRED === '1';

export function findRealSet(): RealSet | { skip: string } {
  const settings = resolveSettings({ flags: {}, env: { ...process.env, KUBE_VERSION: process.env.REAL_K8S_VERSION ?? undefined }, dotenv: null }).values;
  const version = settings.kubeVersion;
  const text = formatKubeVersion(version);
  const set = readInstalledSet(settings.toolsDir, 'kubernetes', text);
  if (set === null) {
    const why = `no real Kubernetes ${text} binaries in ${settings.toolsDir} (npx local-up tools install kubernetes --k8s-version ${text} --from-source)`;
    if (realRequired()) throw new Error(`${why}; CI=true: tests that need real binaries never skip`);
    return { skip: why };
  }
  const binDir = toolSetBinDir(settings.toolsDir, 'kubernetes', text);
  return { version, versionText: text, binDir, bin: (name) => join(binDir, name) };
}

export function realVersionOrDefault(): KubeVersion {
  return parseKubeVersion(process.env.REAL_K8S_VERSION ?? '') ?? resolveSettings({ flags: {}, env: {}, dotenv: null }).values.kubeVersion;
}
