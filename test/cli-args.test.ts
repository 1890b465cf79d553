import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandStart } from '../src/cli/args.js';
import type { OptionSpecs } from '../src/cli/args.js';
import { runInProcess } from './helpers/cli.js';

const LAB_OPTIONS: OptionSpecs = {
  console: { type: 'boolean', description: '' },
  'no-prepare': { type: 'boolean', description: '' },
};

describe('pass-through command lines (lab)', () => {
  const cases: [string[], number][] = [
    [['ipvsadm', '-Ln'], 0],
    [['--lab-memory', '2048', 'ipvsadm', '-Ln'], 2],
    [['--lab-memory=2048', 'sh', '-c', 'echo -n x'], 1],
    [['--console', '--', 'ls', '-la'], 2],
    [['--console', '--no-prepare'], 2],
    [['--strict-arp', 'true'], 1],
    [[], 0],
  ];
  for (const [argv, start] of cases) {
    it(`${JSON.stringify(argv)} starts the command at ${start}`, () => assert.equal(commandStart(argv, LAB_OPTIONS, true), start));
  }
  it('the command keeps its own options, and lab still needs one', async () => {
    const none = await runInProcess(['lab', '--console']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /lab: no command given/);
    const unknown = await runInProcess(['lab', '--bogus', 'true']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/);
  });
});
