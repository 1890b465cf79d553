#!/usr/bin/env node
// Regenerates .env.example and the settings table in README.md from the
// settings table in src/ (run after `npm run build` whenever a setting changes;
// test/config-settings.test.ts fails until you do).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withSettingsTable } from '../dist/config/env-example.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
writeFileSync(readme, withSettingsTable(readFileSync(readme, 'utf8')));
console.log('wrote .env.example and the settings table in README.md');
