#!/usr/bin/env node
// Prints the settings table for README.md from the settings table in src/.
import { defaultLabel } from '../dist/config/env-example.js';
import { settingSpecs } from '../dist/config/settings.js';

console.log('| setting | flag | default | meaning |');
console.log('|---|---|---|---|');
for (const spec of Object.values(settingSpecs({}))) {
  const def = defaultLabel(spec);
  console.log(`| \`${spec.env}\` | \`--${spec.flag}\` | ${def === '' ? '(empty)' : `\`${def}\``} | ${spec.description.replaceAll('|', '\\|')} |`);
}
