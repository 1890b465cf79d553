#!/usr/bin/env node
// Regenerates .env.example from the settings table (run after adding a setting;
// test/config-files.test.ts fails until you do).
import { writeFileSync } from 'node:fs';
import { renderEnvExample } from '../dist/config/env-example.js';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
console.log('wrote .env.example');
