// The oracle's saved runs (src/oracle/report.ts): their JSON reads back, JUnit
// says which case differed, and docs/kube-proxy-conformance.md is exactly what
// hack/gen-conformance.mjs makes from docs/conformance/*.json (it fails while the
// document lags behind the runs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readOracleCase } from '../src/oracle/cases.js';
import type { OracleRunResult } from '../src/oracle/report.js';
import { OracleResultError, caseOutcome, readRunResult, renderConformanceDoc, renderOracleJunit } from '../src/oracle/report.js';
import { ROOT } from './helpers/cli.js';

const run = (kubernetes: string, outcomes: Record<string, 'match' | 'different' | 'rejected' | 'unsupported'>): OracleRunResult => ({
  schema: 1,
  kubernetes,
  kubeProxyVersion: `Kubernetes v${kubernetes}`,
  date: '2026-12-02',
  syncSeconds: 30,
  tableProblems: [],
  cases: Object.entries(outcomes).map(([name, outcome]) => ({
    name,
    description: `${name} case`,
    outcome,
    virtualServers: 1,
    details: outcome === 'match' ? [] : [`${name} went ${outcome}`],
  })),
});

describe('oracle results', () => {
  it('a verdict becomes match, different or rejected', () => {
    assert.equal(caseOutcome({ rejected: null, problems: [] }), 'match');
    assert.equal(caseOutcome({ rejected: null, problems: ['x'] }), 'different');
    assert.equal(caseOutcome({ rejected: '422', problems: [] }), 'rejected');
    assert.equal(caseOutcome({ rejected: null, problems: [], unsupported: 'no primary before 1.31' }), 'unsupported');
  });

  it('reads a saved run back and refuses a malformed one with its file name', () => {
    const saved = run('1.34.11', { a: 'match' });
    assert.deepEqual(readRunResult(JSON.stringify(saved), 'x.json'), saved);
    assert.throws(() => readRunResult('{', 'bad.json'), (e: unknown) => e instanceof OracleResultError && /^bad\.json: not JSON/.test(e.message));
    assert.throws(() => readRunResult(JSON.stringify({ ...saved, kubernetes: 'latest' }), 'v.json'), /v\.json: kubernetes: "latest" is not a version/);
    assert.throws(() => readRunResult(JSON.stringify({ ...saved, cases: [{ name: 'a', outcome: 'fine' }] }), 'c.json'), /cases\[0\]: name and outcome/);
  });

  it('JUnit: a failure per differing case, a skip per refused one, a pass per match', () => {
    const xml = renderOracleJunit(run('1.29.15', { a: 'match', b: 'different', c: 'rejected', d: 'unsupported' }), 12);
    assert.match(xml, /<testsuite name="kube-proxy 1\.29\.15" tests="5" failures="1" errors="0" skipped="2"/);
    assert.match(xml, /<testcase name="d"[^>]*>\s*<skipped>not in kube-proxy 1\.29\.15: d went unsupported<\/skipped>/);
    assert.match(xml, /<testcase name="b" classname="kube-proxy-oracle\.1\.29\.15"[^>]*>\s*<failure message="ipvs expect differs from kube-proxy 1\.29\.15" type="model-difference">b went different<\/failure>/);
    assert.match(xml, /<testcase name="c"[^>]*>\s*<skipped>the API server refused the case: c went rejected<\/skipped>/);
  });

  it('the document: one column per release in version order, headed by kube-proxy --version', () => {
    const doc = renderConformanceDoc([run('1.37.2', { a: 'match', b: 'rejected', c: 'match' }), run('1.29.15', { a: 'different', c: 'unsupported' })], new Map([['a', 'A'], ['b', 'B'], ['c', 'C']]));
    assert.match(doc, /^\| c \| not in this release \| match \|$/m);
    assert.match(doc, /^\| Kubernetes v1\.29\.15 \| 2026-12-02 \| 2 \| 0 \| 1 \| 0 \| 1 \| clean \| 30 \|$/m);
    assert.match(doc, /^\| case \| Kubernetes v1\.29\.15 \| Kubernetes v1\.37\.2 \|$/m);
    assert.match(doc, /^\| a \| \*\*DIFFERENT\*\* \| match \|$/m);
    assert.match(doc, /^\| b \| not run \| rejected by the API server \|$/m);
    assert.match(doc, /^- Kubernetes v1\.29\.15, a \(different\): a went different$/m);
  });

  it('docs/kube-proxy-conformance.md is generated from docs/conformance/*.json (node hack/gen-conformance.mjs)', () => {
    const dir = join(ROOT, 'docs', 'conformance');
    const runs = readdirSync(dir)
      .filter((file) => /^kube-proxy-.*\.json$/.test(file))
      .map((file) => readRunResult(readFileSync(join(dir, file), 'utf8'), file));
    assert.ok(runs.length >= 1, 'no saved oracle run in docs/conformance');
    const casesDir = join(ROOT, 'test', 'fixtures', 'oracle');
    const descriptions = new Map(
      readdirSync(casesDir)
        .filter((file) => file.endsWith('.yaml'))
        .map((file) => readOracleCase(file.slice(0, -5), readFileSync(join(casesDir, file), 'utf8')))
        .map((c) => [c.name, c.description] as const),
    );
    const doc = readFileSync(join(ROOT, 'docs', 'kube-proxy-conformance.md'), 'utf8');
    assert.equal(doc, renderConformanceDoc(runs, descriptions), 'stale: run npm run build && node hack/gen-conformance.mjs');
  });
});
