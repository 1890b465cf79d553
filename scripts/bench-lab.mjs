#!/usr/bin/env node
// Boot-to-first-command time of the lab VM: the wall time of `local-up lab -- true`
// (the CLI as users run it) and, through the library, the time from starting qemu
// to the guest's "command starts" marker. One line per measure on stdout.
// Usage: node scripts/bench-lab.mjs [--runs N]   (needs `npm run build` first)
import { performance } from 'node:perf_hooks';
import { $, argv } from 'zx';

const RUNS = Number(argv.runs ?? process.env.BENCH_LAB_RUNS ?? 3);
const root = new URL('..', import.meta.url).pathname;
const { ExecaRunner } = await import('../dist/exec/execa-runner.js');
const { resolveSettings } = await import('../dist/config/resolve.js');
const { prepareLab, runInLab } = await import('../dist/lab/index.js');

const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
const runner = new ExecaRunner();
const log = (line) => process.stderr.write(`bench-lab: ${line}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(2)}s`;

function report(name, samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`lab.${name}: median ${seconds(median)} min ${seconds(sorted[0])} max ${seconds(sorted.at(-1))} (${samples.length} runs)`);
}

console.log(`# the lab VM (${RUNS} runs each; boot to the first command)`);
let prepared;
try {
  prepared = await prepareLab({ cacheDir: settings.labCacheDir }, { runner, log, isRoot: process.getuid?.() === 0 });
} catch (error) {
  console.log(`lab: skipped (${error.message})`);
  process.exit(0);
}
const prepareStarted = performance.now();
await prepareLab({ cacheDir: settings.labCacheDir }, { runner, log, isRoot: process.getuid?.() === 0 });
report('prepare-reused', [performance.now() - prepareStarted]);

$.verbose = false;
$.cwd = root;
const wall = [];
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  await $`node bin/local-up.js lab -- true`;
  wall.push(performance.now() - started);
}
report('cli-true-wall', wall);

const init = [];
const boot = [];
const total = [];
let accel = '';
for (let i = 0; i < RUNS; i++) {
  const machine = { cacheDir: settings.labCacheDir, memoryMb: settings.labMemory, cpus: settings.labCpus, timeoutSeconds: 300, accel: settings.labAccel };
  const result = await runInLab({ ...machine, kernel: prepared.kernel, command: ['true'], cwd: root, env: process.env, capture: true }, { runner, log });
  if (result.initMs !== null) init.push(result.initMs);
  if (result.bootMs !== null) boot.push(result.bootMs);
  total.push(result.durationMs);
  accel = result.accel;
}
report(`qemu-to-init-${accel}`, init);
report(`qemu-to-command-${accel}`, boot);
report(`library-true-total-${accel}`, total);
