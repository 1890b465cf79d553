#!/usr/bin/env node
// npm run bench: speed goals, each measured as a ratio within one run so the
// machine's own speed cancels out. Sections: CLI start-up, the lab, IPVS state,
// kube-proxy at scale (real API server and kube-proxy; scripts/bench-kube-proxy.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/local-up.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time in ms of a command, after one warm-up run (spawnSync, not zx: zx's own overhead would be measured too). */
function time(file, args) {
  spawnSync(file, args, { stdio: 'ignore' });
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    spawnSync(file, args, { stdio: 'ignore', cwd: root });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

console.log(`# CLI start-up (median of ${RUNS} runs each)`);
const bare = time(process.execPath, ['-e', '0']);
const version = time(process.execPath, [bin, '--version']);
const help = time(process.execPath, [bin, '--help']);
const doctor = time(process.execPath, [bin, 'doctor', '--json']);
console.log(`node -e 0:                 ${bare.toFixed(1)} ms`);
console.log(`local-up --version:        ${version.toFixed(1)} ms  ratio ${(version / bare).toFixed(2)} (goal <= 3)`);
console.log(`local-up --help:           ${help.toFixed(1)} ms  ratio ${(help / bare).toFixed(2)}`);
console.log(`local-up doctor --json:    ${doctor.toFixed(1)} ms  ratio ${(doctor / bare).toFixed(2)}`);

for (const part of ['bench-lab.mjs', 'bench-ipvs.mjs', 'bench-kube-proxy.mjs']) {
  const script = fileURLToPath(new URL(part, import.meta.url));
  if (!existsSync(script)) continue;
  console.log('');
  await $({ stdio: 'inherit', cwd: root })`node ${script}`;
}
