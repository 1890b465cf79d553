// The command line as a user meets it: real processes through bin/local-up.js, scripts/local-up.mjs and
// npm run, where Node and npm see the arguments before our parser does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cleanEnv, runBin, startBin, tempDir } from './helpers/cli.js';
import type { CliResult } from './helpers/cli.js';

const SCRIPT = join(ROOT, 'scripts', 'local-up.mjs');

/** A real process of `file` (node with a script, or npm), to its end. */
function run(file: string, args: readonly string[], env: Record<string, string | undefined>, cwd = ROOT): Promise<CliResult> {
  if (file === process.execPath) {
    const [script, ...rest] = args;
    return runBin(rest, { script: script as string, env, cwd, timeoutMs: 120_000 });
  }
  return new Promise((resolve) => {
    execFile(file, args, { env: env as NodeJS.ProcessEnv, cwd, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

const modeOf = (stdout: string): string | undefined =>
  (JSON.parse(stdout) as { settings: { name: string; value: string; source: string }[] }).settings.find((s) => s.name === 'KUBE_PROXY_MODE')?.value;

describe('--dotenv FILE reaches our parser (Node 20 takes --env-file for itself)', () => {
  const dir = tempDir();
  const file = join(dir, 'ci.env');
  writeFileSync(file, 'KUBE_PROXY_MODE=nftables\n');

  it('bin/local-up.js: the file is read; a missing one is exit 2 naming the flag', async () => {
    const ok = await runBin(['config', 'show', '--json', '--dotenv', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(modeOf(ok.stdout), 'nftables');
    const missing = await runBin(['config', 'show', '--dotenv', join(dir, 'nope.env')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^error: --dotenv \S*nope\.env: no such file/m);
  });
  it('scripts/local-up.mjs (what npm run uses): the same', async () => {
    const ok = await run(process.execPath, [SCRIPT, 'config', 'show', '--json', '--dotenv', file], cleanEnv());
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(modeOf(ok.stdout), 'nftables');
  });
  it('--env-file that gets past Node is refused with the new name, not silently half-applied', async () => {
    const old = await runBin(['config', 'show', '--env-file', file]);
    assert.equal(old.code, 2, old.stderr);
    assert.match(old.stderr, /--env-file/);
    assert.match(old.stderr, /--dotenv FILE/);
    assert.doesNotMatch(old.stderr, /\n\s+at /);
  });
});

describe('npm run CMD --dry-run (without --): npm takes the flag and sets npm_config_dry_run', () => {
  it('up: prints the plan and creates nothing', async () => {
    const state = tempDir('local-up-state-');
    const result = await run('npm', ['run', '--silent', 'up', '--dry-run', '--', '--json'], cleanEnv({ STATE_DIR: state, KIND_AUTO_INSTALL: 'false' }));
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as { steps: unknown[] };
    assert.ok(plan.steps.length > 0);
    assert.match(result.stderr, /npm_config_dry_run/);
    assert.deepEqual(readdirSync(state), []);
  });
  it('down, which has no dry run, refuses (exit 2) and deletes nothing', async () => {
    const state = tempDir('local-up-state-');
    const result = await run(process.execPath, [SCRIPT, 'down'], cleanEnv({ STATE_DIR: state, npm_config_dry_run: 'true' }));
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /dry run/);
    assert.ok(existsSync(state));
    assert.deepEqual(readdirSync(state), []);
  });
});

describe('path settings are checked before anything is written (exit 2, no stack trace, no hang)', () => {
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'not a folder\n');
  const cases: [string, Record<string, string>, RegExp][] = [
    ['LOG_DIR on /proc', { LOG_DIR: '/proc/local-up-logs' }, /LOG_DIR/],
    ['STATE_DIR=/dev/null', { STATE_DIR: '/dev/null' }, /STATE_DIR="\/dev\/null"/],
    ['STATE_DIR is a regular file', { STATE_DIR: file }, /STATE_DIR=.*a-file.*not a folder/],
    ['STATE_DIR under a regular file', { STATE_DIR: join(file, 'state') }, /STATE_DIR=.*a-file.*not a folder/],
  ];
  for (const command of [['up'], ['down'], ['logs']]) {
    for (const [name, env, message] of cases) {
      it(`${command.join(' ')} with ${name}`, async () => {
        const result = await runBin(command, { env: cleanEnv({ KIND_AUTO_INSTALL: 'false', ...env }), timeoutMs: 20_000 });
        assert.equal(result.code, 2, `exit ${result.code}\n${result.stderr}`);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
      });
    }
  }
});

describe('output that cannot be written (issue 14, item 12)', () => {
  const listing = readFileSync(join(ROOT, 'test', 'fixtures', 'assert', 'ipvsadm-Ln-ok.txt'), 'utf8');
  const [header, body] = [listing.split('\n').slice(0, 3).join('\n'), listing.split('\n').slice(3).join('\n')];
  const big = join(tempDir(), 'big.txt');
  // Many distinct virtual servers (a table listing one twice is refused since item 15), as ipvsadm -Ln prints them.
  const services = Array.from({ length: 30_000 }, (_, i) => `TCP  10.${100 + Math.floor(i / 250)}.0.${(i % 250) + 1}:80 rr\n  -> 10.244.0.2:8080              Masq    1      0          0         \n`).join('');
  writeFileSync(big, `${header}\n${body}${services}`);

  it('a reader that closes the pipe early (| head -1) ends it quietly, exit 0', async () => {
    const running = startBin(['ipvs', 'parse', big], { timeoutMs: 120_000 });
    running.child.stdout?.once('data', () => running.child.stdout?.destroy());
    const { code, stderr } = await running.result;
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
  it('a full disk (> /dev/full) is a clear error without a stack trace', { skip: existsSync('/dev/full') ? false : 'this machine has no /dev/full' }, async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const { code, stderr } = await runBin(['config', 'show'], { stdout: full });
      assert.equal(code, 3, stderr);
      assert.match(stderr, /^error: cannot write the output: no space left on device/m);
      assert.doesNotMatch(stderr, /\n\s+at |internal error/);
    } finally {
      closeSync(full);
    }
  });
});
