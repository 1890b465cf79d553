// Kubernetes versions as the user writes them: "1.30", "1.30.2" or "v1.30.2".

export interface KubeVersion {
  readonly major: number;
  readonly minor: number;
  /** null when the user gave only major.minor. */
  readonly patch: number | null;
}

const VERSION = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/;

export function parseKubeVersion(text: string): KubeVersion | null {
  const match = VERSION.exec(text.trim());
  if (match === null) return null;
  const [, major, minor, patch] = match;
  return { major: Number(major), minor: Number(minor), patch: patch === undefined ? null : Number(patch) };
}

/** Compares major.minor only: version boundaries in Kubernetes are per minor release. */
export function compareMinor(a: KubeVersion, b: Pick<KubeVersion, 'major' | 'minor'>): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}


export function formatKubeVersion(v: KubeVersion): string {
  return v.patch === null ? `${v.major}.${v.minor}` : `${v.major}.${v.minor}.${v.patch}`;
}
