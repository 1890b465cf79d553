// The one JUnit XML writer, for `assert` (one testsuite per node) and `smoke`
// (one testsuite). The output validates against the Jenkins-lineage JUnit
// schemas kept in test/fixtures/junit/: no attributes on <skipped>, none beyond
// name/tests/failures/errors/time on <testsuites>.
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { usageError } from '../errors.js';

export type JunitOutcome =
  | { readonly status: 'passed' }
  /** The reason as text: the Jenkins schema's <skipped> takes no attributes. */
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'failed' | 'error'; readonly message: string; readonly type: string; readonly text: string };

export interface JunitCase {
  readonly name: string;
  readonly classname: string;
  readonly seconds: number;
  readonly outcome: JunitOutcome;
  /** Shown after the outcome (evidence of a pass, warnings). */
  readonly systemOut?: string;
}

export interface JunitSuite {
  readonly name: string;
  readonly seconds: number;
  readonly cases: readonly JunitCase[];
  /** ISO time without fraction or zone letter, as the schema wants it. */
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly properties?: readonly (readonly [string, string])[];
  /** Notes for the whole suite, after its cases. */
  readonly systemOut?: string;
}

const count = (cases: readonly JunitCase[], status: JunitOutcome['status']): number => cases.filter((c) => c.outcome.status === status).length;

/** A <testsuites> document; the totals are counted from the cases. */
export function renderJunitXml(name: string, suites: readonly JunitSuite[]): string {
  const total = (pick: (s: JunitSuite) => number): number => suites.reduce((n, s) => n + pick(s), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs({
      name,
      tests: total((s) => s.cases.length),
      failures: total((s) => count(s.cases, 'failed')),
      errors: total((s) => count(s.cases, 'error')),
      // NOTE: no "skipped" here: the Jenkins JUnit schemas allow it on <testsuite> only (test/fixtures/junit/).
      time: seconds(total((s) => s.seconds)),
    })}>`,
    ...suites.map(renderSuite),
    '</testsuites>',
    '',
  ].join('\n');
}

function renderSuite(suite: JunitSuite): string {
  const head = `  <testsuite ${attrs({
    name: suite.name,
    tests: suite.cases.length,
    failures: count(suite.cases, 'failed'),
    errors: count(suite.cases, 'error'),
    skipped: count(suite.cases, 'skipped'),
    time: seconds(suite.seconds),
    ...(suite.timestamp === undefined ? {} : { timestamp: suite.timestamp }),
    ...(suite.hostname === undefined ? {} : { hostname: suite.hostname }),
  })}>`;
  const properties = suite.properties === undefined ? [] : ['    <properties>', ...suite.properties.map(([name, value]) => `      <property ${attrs({ name, value })}/>`), '    </properties>'];
  const out = suite.systemOut === undefined ? [] : [`    <system-out>${xmlText(suite.systemOut)}</system-out>`];
  return [head, ...properties, ...suite.cases.map(renderCase), ...out, '  </testsuite>'].join('\n');
}

function renderCase(c: JunitCase): string {
  const head = `    <testcase ${attrs({ name: c.name, classname: c.classname, time: seconds(c.seconds) })}`;
  const body: string[] = [];
  const o = c.outcome;
  if (o.status === 'skipped') body.push(`      <skipped>${xmlText(o.reason)}</skipped>`);
  if (o.status === 'failed') body.push(`      <failure ${attrs({ message: o.message, type: o.type })}>${xmlText(o.text)}</failure>`);
  if (o.status === 'error') body.push(`      <error ${attrs({ message: o.message, type: o.type })}>${xmlText(o.text)}</error>`);
  if (c.systemOut !== undefined) body.push(`      <system-out>${xmlText(c.systemOut)}</system-out>`);
  return body.length === 0 ? `${head}/>` : [`${head}>`, ...body, '    </testcase>'].join('\n');
}

/**
 * Checks a --junit path before a run of many minutes, not after it: its folder must exist.
 * Returns the absolute path; a missing folder is a usage error (nothing has run yet).
 */
export function checkJunitPath(cwd: string, file: string): string {
  const path = resolve(cwd, file);
  const folder = dirname(path);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) throw usageError(`--junit ${file}: the folder ${folder} does not exist`, 'give a path in an existing, writable folder');
  return path;
}

/** Writes a --junit report file (relative to `cwd`); an unwritable path is a usage error. */
export function writeJunitFile(cwd: string, file: string, xml: string): void {
  try {
    writeFileSync(resolve(cwd, file), xml);
  } catch (error) {
    throw usageError(`--junit ${file}: cannot write (${(error as Error).message})`, 'give a path in an existing, writable folder');
  }
}

const seconds = (value: number): string => Math.max(0, value).toFixed(3);

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${xmlAttribute(String(value))}"`)
    .join(' ');
}

// Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text content; characters XML cannot hold become U+FFFD. */
export function xmlText(text: string): string {
  return text.replace(INVALID_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (quotes and line breaks too, so they survive attribute normalization). */
export function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
