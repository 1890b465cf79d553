// Each package sits where its users are: `dependencies` are exactly the packages
// the shipped code (src/, bin/) imports; everything only scripts/, hack/ or the
// tests use is a devDependency (docs/architecture.md, "Dependencies").
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && pattern.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Bare package names imported (statically or with a literal dynamic import) by the files. */
function packagesImportedBy(files: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*'([^'\n]+)'|^\s*import\s*'([^'\n]+)'|\bimport\(\s*'([^'\n]+)'\s*\)/gm)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      if (spec.startsWith('node:') || spec.startsWith('.')) continue;
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
    }
  }
  return found;
}

describe('package.json puts each package where its users are', () => {
  const shipped = packagesImportedBy([...filesUnder('src', /\.ts$/), ...filesUnder('bin', /\.js$/)]);
  const tooling = packagesImportedBy([...filesUnder('scripts', /\.mjs$/), ...filesUnder('hack', /\.mjs$/), ...filesUnder('test', /\.(ts|mjs)$/)]);

  it('dependencies: exactly what src/ and bin/ import', () => {
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), [...shipped].sort());
  });

  it('devDependencies: whatever scripts/, hack/ and test/ import besides, and nothing the shipped code needs', () => {
    for (const name of tooling) if (!shipped.has(name)) assert.ok(name in pkg.devDependencies, `${name} is used by scripts, hack or tests: a devDependency`);
    for (const name of Object.keys(pkg.devDependencies)) assert.ok(!shipped.has(name), `${name} is imported by src/ or bin/: a dependency`);
  });
});
