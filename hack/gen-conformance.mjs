#!/usr/bin/env node
// Regenerates docs/kube-proxy-conformance.md (case x kube-proxy version) from the
// oracle's saved runs in docs/conformance/kube-proxy-<version>.json and the case
// descriptions in test/fixtures/oracle/ (run after `npm run build`; a run saves
// its JSON there with ORACLE_RESULTS_DIR=docs/conformance npm run test:oracle;
// test/oracle-report.test.ts fails while the document lags behind the JSON).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readOracleCase } from '../dist/oracle/cases.js';
import { readRunResult, renderConformanceDoc } from '../dist/oracle/report.js';

const root = new URL('../', import.meta.url);
const resultsDir = new URL('docs/conformance/', root);
const casesDir = new URL('test/fixtures/oracle/', root);
const runs = readdirSync(resultsDir)
  .filter((file) => /^kube-proxy-.*\.json$/.test(file))
  .map((file) => readRunResult(readFileSync(new URL(file, resultsDir), 'utf8'), `docs/conformance/${file}`));
const descriptions = new Map(
  readdirSync(casesDir)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => readOracleCase(file.slice(0, -5), readFileSync(new URL(file, casesDir), 'utf8')))
    .map((c) => [c.name, c.description]),
);
writeFileSync(new URL('docs/kube-proxy-conformance.md', root), renderConformanceDoc(runs, descriptions));
console.log(`wrote docs/kube-proxy-conformance.md from ${runs.length} run(s)`);
