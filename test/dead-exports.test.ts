// No dead exports: every name src/ exports is used somewhere (its own file, or
// another file in src/, test/, scripts/, hack/, bin/), and every name a file
// re-exports is used outside the file it comes from.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/cli.js';

const files = ['src', 'test', 'scripts', 'hack', 'bin'].flatMap((dir) =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name)),
);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const mentions = (name: string, text: string): number => text.match(new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'))?.length ?? 0;
const usedOutside = (name: string, except: readonly string[]): boolean => [...texts].some(([f, t]) => !except.includes(f) && mentions(name, t) > 0);

describe('dead exports', () => {
  const sources = files.filter((f) => relative(ROOT, f).startsWith('src/'));

  it('every exported declaration in src/ is used', () => {
    const dead: string[] = [];
    for (const file of sources) {
      const text = texts.get(file) ?? '';
      for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm)) {
        const name = m[1] as string;
        if (mentions(name, text) === 1 && !usedOutside(name, [file])) dead.push(`${relative(ROOT, file)}: ${name}`);
      }
    }
    assert.deepEqual(dead, []);
  });

  it('every re-exported name is used outside the module it comes from', () => {
    const dead: string[] = [];
    for (const file of sources) {
      for (const m of (texts.get(file) ?? '').matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/gm)) {
        const origin = resolve(dirname(file), (m[2] as string).replace(/\.js$/, '.ts'));
        for (const name of (m[1] as string).split(',').map((n) => n.trim().split(/\s+as\s+/).pop() ?? '').filter(Boolean)) {
          if (!usedOutside(name, [file, origin])) dead.push(`${relative(ROOT, file)}: ${name}`);
        }
      }
    }
    assert.deepEqual(dead, []);
  });
});
