#!/usr/bin/env node
// The real end-to-end run, for machines with a container engine (a laptop with
// Docker or Podman, a CI runner): up → assert → smoke (when the command exists)
// → logs → down, down always, even after a failure or Ctrl-C. Not part of `npm test`.
//
// With no container engine at all it prints "skipped: <reason>" and exits 0;
// an engine that is present but does not answer is a failure (exit 1).
// Settings come from the environment as for every command; defaults here:
// KUBE_PROXY_MODE=ipvs, CLUSTER_NAME=local-up-e2e. The JUnit reports (junit_ipvs.xml,
// junit_smoke.xml) go to $ARTIFACTS when set, else to LOG_DIR, where `logs` collects too.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { $, which } from 'zx';

const ENGINE_INFO_TIMEOUT = '30s';
const cli = join(import.meta.dirname, 'local-up.mjs');
const env = { ...process.env, KUBE_PROXY_MODE: process.env.KUBE_PROXY_MODE ?? 'ipvs', CLUSTER_NAME: process.env.CLUSTER_NAME ?? 'local-up-e2e' };
const run = $({ env, stdio: 'inherit', nothrow: true, verbose: false, quiet: false });
const probe = $({ env, nothrow: true, quiet: true, verbose: false });

/** The engine kind would use (KIND_EXPERIMENTAL_PROVIDER, else docker, nerdctl, podman), or null. */
async function findEngine() {
  const forced = env.KIND_EXPERIMENTAL_PROVIDER;
  if (forced) return (await which(forced, { nothrow: true })) ? forced : null;
  for (const [name, prefix] of [['docker', 'Docker version'], ['nerdctl', 'nerdctl version'], ['podman', 'podman version']]) {
    if (!(await which(name, { nothrow: true }))) continue;
    const version = await probe`${name} -v`;
    if (version.exitCode === 0 && version.stdout.startsWith(prefix)) return name;
  }
  return null;
}

const engine = await findEngine();
if (engine === null) {
  console.log('skipped: no container engine (docker, nerdctl or podman) on PATH; e2e needs one to run kind');
  process.exit(0);
}
const info = await probe`${engine} info`.timeout(ENGINE_INFO_TIMEOUT);
if (info.exitCode !== 0) {
  console.error(`e2e: ${engine} is installed but does not answer \`${engine} info\` (exit ${info.exitCode}):\n${info.stderr.trim()}`);
  console.error(`start the ${engine} engine (and check that this user may use it), then run npm run e2e again`);
  process.exit(1);
}

let interrupted = false;
process.on('SIGINT', () => {
  // The running local-up gets the same Ctrl-C from the terminal and cleans up; down still runs below.
  interrupted = true;
});

const steps = [];
let failed = null;
const step = async (name, argv) => {
  console.error(`\n=== e2e: local-up ${argv.join(' ')}`);
  const result = await run`node ${cli} ${argv}`;
  steps.push({ name, code: result.exitCode });
  if (result.exitCode !== 0 && failed === null) failed = { name, code: result.exitCode };
  return result.exitCode === 0;
};

/** LOG_DIR as kube-local-up resolves it for this run's settings. */
async function resolvedLogDir() {
  const shown = await probe`node ${cli} config show --json`;
  const setting = shown.exitCode === 0 ? JSON.parse(shown.stdout).settings.find((s) => s.name === 'LOG_DIR') : undefined;
  return setting?.value ?? null;
}

const reportDir = process.env.ARTIFACTS || (await resolvedLogDir());
if (reportDir) mkdirSync(reportDir, { recursive: true });
const junit = (name) => (reportDir ? ['--junit', join(reportDir, name)] : []);

try {
  if (await step('up', ['up'])) {
    if (env.KUBE_PROXY_MODE === 'ipvs' && !interrupted) await step('assert', ['assert', ...junit('junit_ipvs.xml')]);
    const help = await probe`node ${cli} smoke --help`;
    if (help.exitCode === 0 && !interrupted) await step('smoke', ['smoke', ...junit('junit_smoke.xml')]);
    else if (help.exitCode !== 0) console.error('\n=== e2e: no `smoke` command in this version; skipped');
    // The cluster's logs, IPVS tables and kube-proxy logs, for CI artifacts; they do not change the verdict.
    if (!interrupted) {
      console.error('\n=== e2e: local-up logs');
      const logs = await run`node ${cli} logs`;
      if (logs.exitCode !== 0) console.error(`e2e: collecting logs failed (exit ${logs.exitCode}); carrying on`);
    }
  }
} finally {
  await step('down', ['down']);
  if (reportDir && existsSync(reportDir)) console.error(`reports and logs: ${reportDir}`);
}

console.error(`\ne2e (${engine}, KUBE_PROXY_MODE=${env.KUBE_PROXY_MODE}): ${steps.map((s) => `${s.name} ${s.code === 0 ? 'ok' : `exit ${s.code}`}`).join(', ')}`);
process.exit(interrupted ? 130 : failed === null ? 0 : failed.code === 0 ? 1 : failed.code);
