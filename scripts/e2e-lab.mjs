#!/usr/bin/env node
// The local provider end to end on real components, in one lab VM (no container
// engine needed): on this machine `local-up tools images` builds the pause, CoreDNS and
// agnhost archives (once; IMAGES_DIR keeps them), then the VM runs
// hack/lab-local/guest.sh: Debian's containerd, `tools images --import`, `up --detach`
// with KUBE_PROXY_MODE=ipvs, `assert --host local`, `smoke`, `down`, and the check
// that nothing is left. Prints one line per step with its time, and a JSON summary
// to E2E_LAB_SUMMARY when set (steps: the guest's steps, down's and Ctrl-C's leftover checks
// included; phases: the steps inside up, smoke and down). Exit code: 0 when every step passed.
//
// Needs: the real binaries (npm run setup), Debian's containerd, runc and
// containernetworking-plugins, gcc and libc6-dev (.ci/run installs them), the lab kernel.
// Only one lab VM at a time on a machine: run it as
//   flock /tmp/kube-local-up-lab-vm.lock npm run e2e:lab
// The guest also interrupts a second `up` (SIGINT once kube-proxy programmed IPVS): it must
// exit 130 and leave nothing (E2E_CTRL_C=false leaves that out).
// VM size: LAB_MEMORY_MB (default here 3072), LAB_CPUS (2), LAB_TIMEOUT (default here 3600 s).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'local-up.js');
const env = {
  ...process.env,
  LAB_MEMORY_MB: process.env.LAB_MEMORY_MB ?? '3072',
  LAB_CPUS: process.env.LAB_CPUS ?? '2',
  LAB_TIMEOUT: process.env.LAB_TIMEOUT ?? '3600',
};
const run = $({ env, nothrow: true, verbose: false, quiet: true });
const started = Date.now();
const seconds = (since) => Math.round((Date.now() - since) / 1000);

console.error('=== e2e-lab: local-up tools images (on this machine)');
const imagesStarted = Date.now();
const images = await $({ env, nothrow: true, verbose: false, stdio: ['ignore', 'pipe', 'inherit'] })`node ${cli} tools images`;
const imagesSeconds = seconds(imagesStarted);
if (images.exitCode !== 0) {
  console.error(`e2e-lab: tools images failed (exit ${images.exitCode})`);
  process.exit(images.exitCode ?? 1);
}
process.stderr.write(images.stdout);

console.error(`=== e2e-lab: one lab VM (${env.LAB_MEMORY_MB} MiB, ${env.LAB_CPUS} CPUs, up to ${env.LAB_TIMEOUT}s): containerd, up, assert, smoke, down`);
const vmStarted = Date.now();
const vm = run`node ${cli} lab -- bash ${join(root, 'hack', 'lab-local', 'guest.sh')} ${root}`;
vm.stderr.on('data', (chunk) => process.stderr.write(chunk));
vm.stdout.on('data', (chunk) => process.stdout.write(chunk));
const result = await vm;
const vmSeconds = seconds(vmStarted);

const steps = [...result.stdout.matchAll(/^@@e2e (\S+) (\d+) (\d+)$/gm)].map((m) => ({ name: m[1], exitCode: Number(m[2]), seconds: Number(m[3]) }));
// Inside up, smoke and down: each of their own steps ("@@phase COMMAND SECONDS TITLE").
const phases = [...result.stdout.matchAll(/^@@phase (\S+) ([0-9.]+) (.+)$/gm)].map((m) => ({ command: m[1], title: m[3], seconds: Number(m[2]) }));
const summary = { ok: result.exitCode === 0, exitCode: result.exitCode, imagesSeconds, vmSeconds, totalSeconds: seconds(started), steps, phases };
console.error('\n=== e2e-lab summary');
console.error(`tools images: ${imagesSeconds}s; lab VM: ${vmSeconds}s (exit ${result.exitCode})`);
for (const s of steps) console.error(`  ${s.exitCode === 0 ? 'ok  ' : 'FAIL'} ${s.name.padEnd(30)} ${s.seconds}s${s.exitCode === 0 ? '' : ` (exit ${s.exitCode})`}`);
for (const p of phases) console.error(`       ${p.command.padEnd(10)} ${String(p.seconds).padStart(7)}s  ${p.title}`);
if (process.env.E2E_LAB_SUMMARY) writeFileSync(process.env.E2E_LAB_SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
process.exit(result.exitCode ?? 1);
