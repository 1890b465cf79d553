// kube-proxy is the oracle (issue 12): ONE lab VM runs a real etcd, a real
// kube-apiserver and a real kube-proxy in IPVS mode (configured by our own
// `config kube-proxy`); every case of test/fixtures/oracle/ is created through
// the API (each with its own names, ClusterIPs and NodePorts, so one sync
// serves all), and after kube-proxy's sync (its /metrics) our `ipvs expect`
// model must equal the table it programmed for each case's Services, and a
// hand-altered table (per case: a real server deleted, a scheduler changed)
// must fail with exactly the findings of the alteration. Run with `npm run test:oracle`
// (part of `npm test`, for the default version). Another release:
// REAL_K8S_VERSION=1.37.2 npm run test:oracle (its binaries from `tools install kubernetes`).
// Each run writes its result JSON (ORACLE_RESULTS_DIR, default the output folder; the
// conformance document is made from docs/conformance/ by hack/gen-conformance.mjs) and JUnit
// (ORACLE_JUNIT, else $ARTIFACTS/junit_oracle.xml, else the output folder).
// ORACLE_REPLAY=DIR judges a saved guest-stdout.txt again without a VM (model work).
// Under CI=true a missing lab or binary set fails; elsewhere the test skips.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runScriptInLab } from '../../src/lab/index.js';
import type { OracleCase } from '../../src/oracle/cases.js';
import type { OracleGroup } from '../../src/oracle/cases.js';
import { ORACLE_NODE, caseClusterIPs, guestCaseName, oracleGroups, planOracleFiles, readOracleCase, vipMark } from '../../src/oracle/cases.js';
import type { GuestOutput, OracleVerdict } from '../../src/oracle/judge.js';
import { judgeCase, judgeOracleRun, judgeThenCase, judgeThenRun, readGuestOutput } from '../../src/oracle/judge.js';
import type { CaseResult, OracleRunResult } from '../../src/oracle/report.js';
import { caseOutcome, renderOracleJunit } from '../../src/oracle/report.js';
import { writeJunitFile } from '../../src/io/junit.js';
import { ROOT, runBin } from '../helpers/cli.js';
import { labAvailability, labDeps } from '../helpers/lab.js';
import { findRealSet } from '../helpers/real-binaries.js';

const CASES_DIR = join(ROOT, 'test', 'fixtures', 'oracle');
/** Where the guest's raw output and each case's inputs are kept for a human to read. */
const OUT_ROOT = process.env.ORACLE_OUT_DIR ?? join(tmpdir(), 'kube-local-up-oracle');
/** The VM: the API server and kube-proxy need more than the lab's default 1 GiB. */
const ORACLE_MEMORY_MB = Number(process.env.LAB_MEMORY_MB ?? 3072);
/**
 * Seconds for the whole VM run: about 6 minutes of start-up under software emulation, then a kube-proxy
 * start and sync per nodePortAddresses group, then the cases. On a machine shared with other VMs and
 * builds one run took over 40 minutes (kube-proxy's first sync 70-210 s instead of 20 s).
 */
const ORACLE_TIMEOUT_SECONDS = Number(process.env.LAB_TIMEOUT ?? 3600);
const CLI_TIMEOUT_MS = 60_000;
/** Where the guest finds kube-proxy's kubeconfig (hack/oracle/guest.sh writes it). */
const GUEST_KUBECONFIG = '/tmp/kube-local-up-oracle/kubeconfig';

const ci = process.env.CI === 'true';
const REPLAY = process.env.ORACLE_REPLAY;
const lab = REPLAY === undefined ? await labAvailability() : { skip: undefined, machine: undefined };
const real = findRealSet();
const skip = lab.skip ?? ('skip' in real ? real.skip : undefined);
if (skip !== undefined && ci) throw new Error(`oracle: CI=true and ${skip}; the oracle never skips in CI`);

const cases: OracleCase[] = readdirSync(CASES_DIR)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .filter((file) => process.env.ORACLE_CASES === undefined || process.env.ORACLE_CASES.split(',').some((want) => file.startsWith(want)))
  .map((file) => readOracleCase(file.slice(0, -'.yaml'.length), readFileSync(join(CASES_DIR, file), 'utf8')));
const groups: OracleGroup[] = oracleGroups(cases);
const groupOf = (i: number): OracleGroup | null => groups.find((g) => g.caseIndexes.includes(i)) ?? null;

/** `local-up config kube-proxy` for the oracle's node, with extra flags; exit code 2 means this release does not take them. */
async function kubeProxyConfig(versionText: string, extra: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runBin(['config', 'kube-proxy', '--mode', 'ipvs', '--k8s-version', versionText, '--hostname-override', ORACLE_NODE.name, '--kubeconfig', GUEST_KUBECONFIG, ...extra], { cwd: ROOT, timeoutMs: CLI_TIMEOUT_MS, env: { ...process.env, IPVS_SCHEDULER: 'rr' } });
}

describe('kube-proxy is the oracle: ipvs expect against real kube-proxy on the real kernel', { skip: skip ?? false }, () => {
  let output: GuestOutput | undefined;
  let verdict: OracleVerdict | undefined;
  /** The second state (cases with `then`), judged like the first. */
  let thenVerdict: OracleVerdict | null = null;
  /** Per nodePortAddresses group: its run's verdict, or why this release's kube-proxy does not take its configuration. */
  const groupVerdicts = new Map<number, OracleVerdict>();
  const unsupported = new Map<number, string>();
  let failure: string | undefined;

  before(async () => {
    if (lab.skip !== undefined || 'skip' in real) return;
    const OUT_DIR = join(OUT_ROOT, real.versionText);
    mkdirSync(OUT_DIR, { recursive: true });
    const started = Date.now();
    for (const group of groups) {
      const config = await kubeProxyConfig(real.versionText, ['--nodeport-addresses', group.nodePortAddresses.join(',')]);
      if (config.code === 2) unsupported.set(group.id, `kube-proxy ${real.versionText} does not take nodePortAddresses ${group.nodePortAddresses.join(',')}: ${config.stderr.trim().split('\n')[0] ?? ''}`);
      else if (config.code !== 0) throw new Error(`local-up config kube-proxy --nodeport-addresses failed: ${config.stderr}`);
      else groupConfigs.set(group.id, config.stdout);
    }
    if (REPLAY !== undefined) {
      output = readGuestOutput(readFileSync(join(REPLAY, 'guest-stdout.txt'), 'utf8'));
    } else {
      output = await runVm(OUT_DIR);
    }
    if (failure !== undefined || output === undefined) return;
    writeFileSync(join(OUT_DIR, 'cluster.json'), JSON.stringify(output.clusterDump, null, 2));
    writeFileSync(join(OUT_DIR, 'ip_vs'), output.ipvs);
    writeFileSync(join(OUT_DIR, 'ip_vs.altered'), output.ipvsAltered);
    verdict = judgeOracleRun(output);
    thenVerdict = judgeThenRun(output);
    for (const group of groups) {
      const run = output.groups.get(group.id);
      if (run !== undefined) groupVerdicts.set(group.id, judgeOracleRun(run, group.nodePortAddresses));
    }
    process.stderr.write(`# oracle: kube-proxy synced every case ${output.syncSeconds}s after the first request\n`);
    writeResults(OUT_DIR, output, verdict, (Date.now() - started) / 1000);
  });

  /** The kube-proxy configs generated for the groups this release takes, by group id. */
  const groupConfigs = new Map<number, string>();

  /** The kube-proxy configs, the VM, the guest script: the guest's output (failure set when it did not finish). */
  async function runVm(OUT_DIR: string): Promise<GuestOutput | undefined> {
    if (!('machine' in lab) || lab.machine === undefined || 'skip' in real) return undefined;
    const started = Date.now();
    const generated = await kubeProxyConfig(real.versionText, []);
    if (generated.code !== 0) throw new Error(`local-up config kube-proxy failed: ${generated.stderr}`);
    const proxyConfig = generated.stdout;
    const files: Record<string, string> = { ...planOracleFiles(cases, [...groupConfigs.keys()]), 'kube-proxy.yaml': proxyConfig };
    for (const [id, config] of groupConfigs) files[`kube-proxy-group-${id}.yaml`] = config;
    const run = await runScriptInLab(
      {
        ...lab.machine,
        memoryMb: ORACLE_MEMORY_MB,
        timeoutSeconds: ORACLE_TIMEOUT_SECONDS,
        script: readFileSync(join(ROOT, 'hack', 'oracle', 'guest.sh'), 'utf8'),
        scriptName: 'guest-oracle.sh',
        args: [real.binDir, '/run/lab', '/run/lab/kube-proxy.yaml'],
        files,
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: '/root', ...(process.env.ORACLE_SYNC_TIMEOUT === undefined ? {} : { ORACLE_SYNC_TIMEOUT: process.env.ORACLE_SYNC_TIMEOUT }) },
        capture: true,
        onStderr: (chunk) => process.stderr.write(chunk),
      },
      labDeps(),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    writeFileSync(join(OUT_DIR, 'guest-stdout.txt'), run.stdout ?? '');
    writeFileSync(join(OUT_DIR, 'guest-stderr.txt'), run.stderr ?? '');
    process.stderr.write(`# oracle: VM run ${seconds}s (boot ${((run.bootMs ?? 0) / 1000).toFixed(1)}s), exit ${run.exitCode}, output in ${OUT_DIR}\n`);
    const guest = readGuestOutput(run.stdout ?? '');
    if (run.exitCode !== 0 || !guest.complete) {
      failure = `the oracle VM exited ${run.exitCode}${guest.complete ? '' : ' before its end'}:\n${run.stderr ?? ''}\n${run.consoleTail}`;
    }
    return guest;
  }

  /** The case's name in the guest's output: a replayed run may have numbered the catalogue of its day differently. */
  function guestNameIn(guest: Pick<GuestOutput, 'alterations'>, c: OracleCase, i: number): string {
    if (REPLAY === undefined) return guestCaseName(c, i);
    return [...guest.alterations.keys()].find((name) => name.replace(/^oracle-\d+-/, '') === c.name) ?? guestCaseName(c, i);
  }

  /** A case in the first state and, when it has one, in the second: every problem of both (a group's case: in its group's run). */
  function judgeBoth(c: OracleCase, i: number, run: OracleVerdict, guest: GuestOutput): ReturnType<typeof judgeCase> & { unsupported: string | null } {
    const services = c.objects.filter((o) => o.kind === 'Service');
    const group = groupOf(i);
    if (group !== null) {
      const refused = unsupported.get(group.id);
      if (refused !== undefined) return { virtualServers: 0, alteredWanted: [], alteredFound: [], rejected: null, problems: [], unsupported: refused };
      const groupRun = guest.groups.get(group.id);
      const groupVerdict = groupVerdicts.get(group.id);
      if (groupRun === undefined || groupVerdict === undefined) {
        return { virtualServers: 0, alteredWanted: [], alteredFound: [], rejected: null, problems: [`the guest printed no run of nodePortAddresses group ${group.id}`], unsupported: null };
      }
      return { ...judgeCase(groupVerdict, groupRun, guestNameIn(groupRun, c, i), services), unsupported: null };
    }
    const first = { ...judgeCase(run, guest, guestNameIn(guest, c, i), services), unsupported: null };
    if (c.then === null || first.rejected !== null) return first;
    if (thenVerdict === null) return { ...first, problems: [...first.problems, 'the guest printed no second state'] };
    const second = judgeThenCase(thenVerdict, services, caseClusterIPs(c).map(vipMark));
    return { ...first, problems: [...first.problems, ...second.problems] };
  }

  /** The run's result JSON and JUnit (see the header for where they go). */
  function writeResults(OUT_DIR: string, guest: GuestOutput, run: OracleVerdict, seconds: number): void {
    if ('skip' in real) return;
    const results: CaseResult[] = cases.map((c, i) => {
      const v = judgeBoth(c, i, run, guest);
      return { name: c.name, description: c.description, outcome: caseOutcome(v), virtualServers: v.virtualServers, details: v.unsupported !== null ? [v.unsupported] : v.rejected !== null ? [v.rejected] : [...v.problems] };
    });
    const result: OracleRunResult = {
      schema: 1,
      kubernetes: real.versionText,
      kubeProxyVersion: guest.version,
      date: new Date().toISOString().slice(0, 10),
      syncSeconds: guest.syncSeconds,
      tableProblems: [
        ...run.problems,
        ...(thenVerdict?.problems ?? []).map((p) => `after the changes: ${p}`),
        ...[...groupVerdicts].flatMap(([id, v]) => v.problems.map((p) => `nodePortAddresses ${groups.find((g) => g.id === id)?.nodePortAddresses.join(',') ?? id}: ${p}`)),
      ],
      cases: results,
    };
    const resultsDir = process.env.ORACLE_RESULTS_DIR ?? OUT_DIR;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `kube-proxy-${real.versionText}.json`), `${JSON.stringify(result, null, 2)}\n`);
    const junit = process.env.ORACLE_JUNIT ?? (process.env.ARTIFACTS ? join(process.env.ARTIFACTS, 'junit_oracle.xml') : join(OUT_DIR, 'junit_oracle.xml'));
    writeJunitFile(ROOT, junit, renderOracleJunit(result, seconds));
    process.stderr.write(`# oracle: results in ${join(resultsDir, `kube-proxy-${real.versionText}.json`)}, JUnit in ${junit}\n`);
  }

  it('runs the real kube-proxy of the installed set, and its whole table has nothing the model does not expect', () => {
    if (failure !== undefined) assert.fail(failure);
    assert.ok(output !== undefined && verdict !== undefined && !('skip' in real));
    assert.match(output.version, new RegExp(`^Kubernetes v${real.versionText.replaceAll('.', '\\.')}$`));
    assert.deepEqual(verdict.problems, [], `${verdict.problems.join('\n')}\nkube-proxy's table:\n${output.ipvs}`);
    assert.equal(verdict.check.diff.counts.actualVirtualServers, verdict.check.diff.counts.matchedVirtualServers);
    if (cases.some((c) => c.then !== null)) {
      assert.ok(thenVerdict !== null, 'the guest printed no second state');
      assert.deepEqual(thenVerdict.problems, [], `after the changes:\n${thenVerdict.problems.join('\n')}\nkube-proxy's table:\n${output.then?.ipvs ?? ''}`);
    }
    for (const group of groups) {
      if (unsupported.has(group.id)) continue;
      const v = groupVerdicts.get(group.id);
      assert.ok(v !== undefined, `the guest printed no run of nodePortAddresses group ${group.id} (${group.nodePortAddresses.join(',')})`);
      assert.deepEqual(v.problems, [], `nodePortAddresses ${group.nodePortAddresses.join(',')}:\n${v.problems.join('\n')}\nkube-proxy's table:\n${output.groups.get(group.id)?.ipvs ?? ''}`);
    }
  });

  cases.forEach((c, i) => {
    it(`${c.name}: ${c.description}`, () => {
      if (failure !== undefined) assert.fail(failure);
      assert.ok(output !== undefined && verdict !== undefined);
      const result = judgeBoth(c, i, verdict, output);
      if (result.unsupported !== null) {
        process.stderr.write(`# oracle: ${c.name}: not run: ${result.unsupported}\n`);
        assert.ok(c.mayBeRejected !== null, `${c.name}: ${result.unsupported}, and the case does not say it may be refused`);
        return;
      }
      if (result.rejected !== null) {
        process.stderr.write(`# oracle: ${c.name}: refused by the API server (${c.mayBeRejected ?? 'not expected'})\n`);
        assert.ok(c.mayBeRejected !== null, `${c.name}: the API server refused it: ${result.rejected}`);
        return;
      }
      process.stderr.write(
        `# oracle: ${c.name}: ${result.virtualServers} virtual servers, ${result.problems.length === 0 ? 'match' : 'DIFFERENT'}; ` +
          `altered: ${result.alteredFound.join('; ') || 'nothing to alter'}\n`,
      );
      assert.deepEqual(result.problems, [], `${c.name}:\n${result.problems.join('\n')}\nkube-proxy's table:\n${output.ipvs}`);
    });
  });
});
