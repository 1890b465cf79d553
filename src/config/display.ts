// Turns resolved setting values back into the text a user would write.
import { formatKubeVersion } from './kube-version.js';
import type { KubeVersion } from './kube-version.js';
import type { SettingKey, Settings } from './settings.js';

export function displayValue(key: SettingKey, settings: Settings): string {
  const value: unknown = settings[key];
  if (key === 'kubeVersion') return formatKubeVersion(value as KubeVersion);
  if (key === 'featureGates') {
    return Object.entries(value as Record<string, boolean>)
      .map(([name, on]) => `${name}=${on}`)
      .join(',');
  }
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
