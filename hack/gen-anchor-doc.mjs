#!/usr/bin/env node
// Regenerates docs/compared-with-local-up-cluster.md from the saved side-by-side run,
// docs/compared-with-local-up-cluster.json (run after `npm run build`; `npm run compare:anchor`
// makes a new run and writes both; test/anchor-record.test.ts fails while the document lags behind the JSON).
import { readFileSync, writeFileSync } from 'node:fs';
import { readAnchorResult, renderAnchorDoc } from '../dist/anchor/doc.js';

const root = new URL('../', import.meta.url);
const source = 'docs/compared-with-local-up-cluster.json';
const result = readAnchorResult(readFileSync(new URL(source, root), 'utf8'), source);
writeFileSync(new URL('docs/compared-with-local-up-cluster.md', root), renderAnchorDoc(result));
console.log(`wrote docs/compared-with-local-up-cluster.md from ${source}`);
