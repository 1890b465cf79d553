#!/usr/bin/env node
// IPVS state at scale, measured in one lab run on the real kernel: 10,000
// Services with 3 endpoints each, programmed with `ipvsadm -R`. Reports reading
// the table (/proc/net/ip_vs versus `ipvsadm -Ln`), each pure step (parse, read
// the cluster JSON, expect, diff), a full `local-up assert` in the VM, and an
// offline assert of the same size on this machine. The last line is the goal's
// ratio: a full assert against ipvsadm's listing time (goal <= 0.25).
// Usage: node scripts/bench-ipvs.mjs   (needs `npm run build` first)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';

const root = new URL('..', import.meta.url).pathname;
const SERVICES = Number(process.env.BENCH_IPVS_SERVICES ?? 10000);
const REPEATS = 3;
const NODE_IP = '192.168.60.10';
const { ExecaRunner } = await import('../dist/exec/execa-runner.js');
const { resolveSettings } = await import('../dist/config/resolve.js');
const { prepareLab, runScriptInLab } = await import('../dist/lab/index.js');

const settings = resolveSettings({ flags: {}, env: process.env, dotenv: null }).values;
const runner = new ExecaRunner();
const log = (line) => process.stderr.write(`bench-ipvs: ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), 'local-up-bench-ipvs-'));
$.verbose = false;
$.cwd = root;

try {
  console.log(`# IPVS state: ${SERVICES} Services x 3 endpoints (${SERVICES * 4} table lines)`);
  await $`node hack/gen-ipvs-scale.mjs ${dir} ${SERVICES} 3`;
  const assertArgs = ['--cluster', join(dir, 'cluster.json'), '--node-name', 'bench-node', '--node-ip', NODE_IP];

  const offline = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await $`node bin/local-up.js assert --ipvs ${join(dir, 'rules.txt')} ${assertArgs}`;
    offline.push(performance.now() - started);
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`host.offline-assert: ${median(offline).toFixed(0)} ms (goal: well under 1000 ms)`);

  try {
    await prepareLab({ cacheDir: settings.labCacheDir }, { runner, log, isRoot: process.getuid?.() === 0 });
  } catch (error) {
    console.log(`lab: skipped (${error.message})`);
    console.log('assert/ipvsadm-list ratio: n/a (no lab here)');
    process.exit(0);
  }

  // Each measure is the median of REPEATS runs inside one VM; times in ms from date +%s%N.
  const script = `
set -e
ip link add lab0 type dummy && ip addr add ${NODE_IP}/24 dev lab0 && ip link set lab0 up
ip route add 10.244.0.0/16 dev lab0
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
t=$(date +%s%N); ipvsadm -R < ${dir}/rules.txt; echo "load-ipvsadm-R $(ms $t)"
for i in 1 2 3; do
  t=$(date +%s%N); cat /proc/net/ip_vs > /tmp/proc.txt; echo "read-proc $(ms $t)"
  t=$(date +%s%N); ipvsadm -Ln > /tmp/list.txt; echo "read-ipvsadm-list $(ms $t)"
  t=$(date +%s%N); node bin/local-up.js assert --ipvs /proc/net/ip_vs --hz 250 ${assertArgs.join(' ')} > /dev/null; echo "full-assert $(ms $t)"
  node hack/bench-ipvs-steps.mjs /tmp/proc.txt ${dir}/cluster.json ${NODE_IP} 250 | sed 's/^/step-/'
done
echo "lines $(wc -l < /tmp/proc.txt)"
`;
  const run = await runScriptInLab({ ...{ cacheDir: settings.labCacheDir, memoryMb: Math.max(settings.labMemory, 2048), cpus: settings.labCpus, timeoutSeconds: 1800, accel: settings.labAccel }, script, cwd: root, env: process.env, capture: true }, { runner, log });
  if (run.exitCode !== 0) throw new Error(`the benchmark VM failed (exit ${run.exitCode}):\n${run.stderr}`);
  const samples = new Map();
  for (const line of (run.stdout ?? '').split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === undefined || value === undefined || !/^\d+(\.\d+)?$/.test(value)) continue;
    samples.set(name, [...(samples.get(name) ?? []), Number(value)]);
  }
  const m = (name) => median(samples.get(name) ?? [NaN]);
  console.log(`lab.table-lines: ${m('lines')}`);
  console.log(`lab.load-ipvsadm-R: ${m('load-ipvsadm-R')} ms`);
  console.log(`lab.read-proc (cat /proc/net/ip_vs): ${m('read-proc')} ms`);
  console.log(`lab.read-ipvsadm-list (ipvsadm -Ln): ${m('read-ipvsadm-list')} ms  (/proc is ${(m('read-ipvsadm-list') / m('read-proc')).toFixed(1)}x faster)`);
  for (const step of ['parse', 'cluster-json', 'expect', 'diff']) console.log(`lab.step.${step}: ${m(`step-${step}`).toFixed(0)} ms`);
  console.log(`lab.full-assert (local-up assert, process start to exit): ${m('full-assert')} ms`);
  console.log(`assert/ipvsadm-list ratio: ${(m('full-assert') / m('read-ipvsadm-list')).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
