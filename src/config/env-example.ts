// .env.example is generated from the settings table, so it always lists every
// setting with its default and meaning (a test compares the file with this).
import type { SettingGroup, SettingSpec } from './settings.js';
import { settingSpecs } from './settings.js';

const GROUP_TITLES: Record<SettingGroup, string> = {
  cluster: 'Cluster',
  ipvs: 'kube-proxy IPVS tuning (empty: kube-proxy\'s own default)',
  paths: 'Where files go',
  kind: 'kind provider',
  lab: 'The lab (a qemu VM with a real IPVS kernel)',
};

export function defaultLabel(spec: SettingSpec<unknown>): string {
  return spec.defaultLabel ?? (typeof spec.default === 'string' ? spec.default : '(computed)');
}

export function renderEnvExample(): string {
  const specs = Object.values(settingSpecs({})) as SettingSpec<unknown>[];
  const lines = [
    '# kube-local-up settings. Copy to .env and uncomment what you change.',
    '# Precedence: command-line flag > real environment > .env > default.',
    '# `npx local-up config show` prints every resolved value and where it came from.',
  ];
  for (const group of Object.keys(GROUP_TITLES) as SettingGroup[]) {
    const inGroup = specs.filter((s) => s.group === group);
    if (inGroup.length === 0) continue;
    lines.push('', `## ${GROUP_TITLES[group]}`);
    for (const spec of inGroup) {
      lines.push(`# ${spec.description} (flag --${spec.flag})`);
      const label = defaultLabel(spec);
      lines.push(typeof spec.default === 'string' ? `#${spec.env}=${label}` : `#${spec.env}=    # default: ${label}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
