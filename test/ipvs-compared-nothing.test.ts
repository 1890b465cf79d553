// Offline checks that compared nothing must not say OK (issue 14, item 15): a family the files do
// not hold, a table that lists a virtual server twice, a forced --format that does not fit the
// text, and input too large to be a table.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runBin, runInProcess, tempDir } from './helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'assert');
const fixture = (name: string): string => join(FIXTURES, name);
const NODE = ['--cluster', fixture('cluster.json'), '--node-name', 'kind-worker', '--node-ip', '172.18.0.3'];

/** The recorded-format listing with every virtual server (and its real servers) written twice. */
function doubledListing(): string {
  const lines = readFileSync(fixture('ipvsadm-Ln-ok.txt'), 'utf8').trimEnd().split('\n');
  const body = lines.slice(3).join('\n');
  const file = join(tempDir(), 'twice.txt');
  writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n${body}\n${body}\n`);
  return file;
}

describe('assert offline', () => {
  test('--family IPv6 on IPv4 files compares nothing: not OK, says why', async () => {
    const result = await runInProcess(['assert', '--ipvs', fixture('ipvsadm-Ln-ok.txt'), ...NODE, '--family', 'IPv6']);
    assert.notEqual(result.code, 0, result.stdout);
    assert.doesNotMatch(result.stdout, /OK/);
    assert.match(result.stderr, /nothing to compare/);
    assert.match(result.stderr, /IPv4/);
  });
  test('a table that lists each virtual server twice is refused (the kernel never does)', async () => {
    const result = await runInProcess(['assert', '--ipvs', doubledListing(), ...NODE]);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /listed twice: virtual server TCP\/10\.96\.0\.1:443/);
  });
  test('--format takes the same words as ipvs parse: list, save, proc', async () => {
    for (const [file, word] of [['ipvsadm-Ln-ok.txt', 'list'], ['ipvsadm-Sn-ok.txt', 'save'], ['proc-net-ip_vs-ok.txt', 'proc']] as const) {
      const result = await runInProcess(['assert', '--ipvs', fixture(file), ...NODE, '--format', word, '--hz', '250']);
      assert.equal(result.code, 0, `${word}: ${result.stderr}`);
    }
  });
});

describe('ipvs parse', () => {
  test('a table listing a virtual server twice is refused', async () => {
    const result = await runInProcess(['ipvs', 'parse', doubledListing()]);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /twice/);
  });
  test('--format proc on an ipvsadm -Ln listing is refused, not read as an empty table', async () => {
    const result = await runInProcess(['ipvs', 'parse', fixture('ipvsadm-Ln-ok.txt'), '--format', 'proc']);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /not .*proc/i);
    const list = await runInProcess(['ipvs', 'parse', fixture('proc-net-ip_vs-ok.txt'), '--format', 'list']);
    assert.equal(list.code, 2, list.stdout);
  });
  test('endless input (/dev/zero) stops at the cap with a clear message, not a V8 error', async () => {
    const result = await runBin(['ipvs', 'parse', '/dev/zero'], { timeoutMs: 120_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^error: .*larger than \d+ MiB/m);
    assert.doesNotMatch(result.stderr, /Invalid string length|internal error|\n\s+at /);
  });
  test('50 MB of listing is read within 512 MiB of heap', async () => {
    const lines = readFileSync(fixture('ipvsadm-Ln-ok.txt'), 'utf8').trimEnd().split('\n');
    const services = lines.slice(3);
    // Distinct virtual servers: the recorded shapes, each service line given an address of its own.
    const chunks: string[] = [lines.slice(0, 3).join('\n')];
    let size = 0;
    let n = 0;
    const nextAddress = () => (n++, `10.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`);
    while (size < 50 * 1024 * 1024) {
      const block = services.map((line) => line.replace(/^(TCP|UDP|SCTP)(\s+)\d+\.\d+\.\d+\.\d+/, (_, proto: string, space: string) => `${proto}${space}${nextAddress()}`)).join('\n');
      chunks.push(block);
      size += block.length + 1;
    }
    const file = join(tempDir(), 'big.txt');
    writeFileSync(file, `${chunks.join('\n')}\n`);
    const { code, stderr } = await runBin(['ipvs', 'parse', file, '--json'], { nodeArgs: ['--max-old-space-size=512'], stdout: 'ignore', timeoutMs: 300_000 });
    assert.equal(code, 0, stderr.slice(0, 2000));
  });
});
