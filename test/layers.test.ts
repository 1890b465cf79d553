// Layers import downward only: every import in src/ goes to its own folder or to
// a folder below it in docs/architecture.md's list (which this test also reads,
// so the map and the rule cannot drift apart).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/cli.js';

/** Top to bottom, as docs/architecture.md ("Layers") lists them; `errors` is src/errors.ts, the bottom. */
const LAYERS = ['cli', 'compare', 'smoke', 'anchor', 'steps', 'plan', 'providers', 'doctor', 'lab', 'oracle', 'migrate', 'ipvs', 'kernel', 'kube', 'kubeproxy', 'kind', 'tools', 'state', 'log', 'config', 'io', 'exec', 'errors'] as const;

const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The layer a file under src/ belongs to: its top folder, or its name for a file directly in src/. */
const layerOf = (file: string): string => relative(SRC, file).split('/')[0]?.replace(/\.ts$/, '') ?? '';

/** Relative specifiers of static imports, re-exports and literal dynamic imports. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    const spec = match[1] ?? match[2];
    if (spec !== undefined && spec.startsWith('.')) found.push(spec);
  }
  return found;
}

/** Upward imports as "from -> to (file: specifier)". */
function upwardImports(files: readonly { path: string; text: string }[], layers: readonly string[]): string[] {
  const problems: string[] = [];
  for (const { path, text } of files) {
    const from = layerOf(path);
    for (const spec of importsOf(text)) {
      const to = layerOf(resolve(dirname(path), spec).replace(/\.js$/, '.ts'));
      if (to === from) continue;
      const a = layers.indexOf(from);
      const b = layers.indexOf(to);
      if (a === -1 || b === -1) problems.push(`${relative(ROOT, path)}: "${a === -1 ? from : to}" is not in the layer list (${spec})`);
      else if (b < a) problems.push(`${from} -> ${to} (${relative(ROOT, path)}: ${spec})`);
    }
  }
  return problems;
}

describe('layers', () => {
  it('docs/architecture.md lists the same layers in the same order', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Layers'), doc.indexOf('## Rules the code keeps'));
    const listed = [...section.matchAll(/^src\/([a-z-]+)\//gm)].map((m) => m[1]);
    assert.deepEqual(listed, LAYERS.filter((l) => l !== 'errors'));
  });

  it('every folder under src/ is in the list', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(folders.filter((f) => !(LAYERS as readonly string[]).includes(f)), []);
  });

  it('no file in src/ imports from a layer above its own', () => {
    const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    assert.ok(files.length > 100, 'the scan found the sources');
    assert.deepEqual(upwardImports(files, LAYERS), []);
  });

  it('the check catches an upward import, a dynamic one and a re-export', () => {
    const file = (path: string, text: string) => ({ path: join(SRC, path), text });
    assert.deepEqual(
      upwardImports([
        file('steps/up.ts', "import type { Io } from '../cli/io.js';\nimport { a } from './cluster.js';"),
        file('exec/x.ts', "const m = await import('../steps/up.js');"),
        file('kube/ip.ts', "export { canonicalAddress } from '../ipvs/model.js';"),
        file('cli/main.ts', "import { x } from '../exec/runner.js';\nimport { ExitCode } from '../errors.js';"),
      ], LAYERS),
      ['steps -> cli (src/steps/up.ts: ../cli/io.js)', 'exec -> steps (src/exec/x.ts: ../steps/up.js)', 'kube -> ipvs (src/kube/ip.ts: ../ipvs/model.js)'],
    );
  });
});

describe('one of each', () => {
  const filesIn = (dir: string, pattern: RegExp): { path: string; text: string }[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && pattern.test(e.name))
      .map((e) => join(e.parentPath, e.name))
      .map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

  it('one JUnit writer: only src/io/junit.ts writes <testsuites>', () => {
    assert.deepEqual(filesIn('src', /\.ts$/).filter((f) => f.text.includes('<testsuites')).map((f) => f.path), ['src/io/junit.ts']);
  });

  it('one CLI-spawning helper: only test/helpers/cli.ts starts node processes', () => {
    const spawning = filesIn('test', /\.ts$/).filter((f) => /\b(?:spawn|spawnSync|execFile|execFileSync|fork)\(\s*process\.execPath/.test(f.text));
    assert.deepEqual(spawning.map((f) => f.path), ['test/helpers/cli.ts']);
  });
});
