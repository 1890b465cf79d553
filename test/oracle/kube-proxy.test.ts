// kube-proxy is the oracle (issue 12): ONE lab VM runs a real etcd, a real
// kube-apiserver and a real kube-proxy in IPVS mode (configured by our own
// `config kube-proxy`); every case of test/fixtures/oracle/ is created through
// the API (each with its own names, ClusterIPs and NodePorts, so one sync
// serves all), and after kube-proxy's sync (its /metrics) our `ipvs expect`
// model must equal the table it programmed for each case's Services, and a
// hand-altered table (per case: a real server deleted, a scheduler changed)
// must fail with exactly the findings of the alteration. Run with `npm run test:oracle`
// (not part of `npm test`: one run takes minutes under software emulation).
// Under CI=true a missing lab or binary set fails; elsewhere the test skips.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runScriptInLab } from '../../src/lab/index.js';
import type { OracleCase } from '../../src/oracle/cases.js';
import { ORACLE_NODE, guestCaseName, planOracleFiles, readOracleCase } from '../../src/oracle/cases.js';
import type { GuestOutput, OracleVerdict } from '../../src/oracle/judge.js';
import { judgeCase, judgeOracleRun, readGuestOutput } from '../../src/oracle/judge.js';
import { ROOT, runBin } from '../helpers/cli.js';
import { labAvailability, labDeps } from '../helpers/lab.js';
import { findRealSet } from '../helpers/real-binaries.js';

const CASES_DIR = join(ROOT, 'test', 'fixtures', 'oracle');
/** Where the guest's raw output and each case's inputs are kept for a human to read. */
const OUT_DIR = process.env.ORACLE_OUT_DIR ?? join(tmpdir(), 'kube-local-up-oracle');
/** The VM: the API server and kube-proxy need more than the lab's default 1 GiB. */
const ORACLE_MEMORY_MB = Number(process.env.LAB_MEMORY_MB ?? 3072);
/** Seconds for the whole VM run: about 6 minutes of start-up under software emulation, then the cases. */
const ORACLE_TIMEOUT_SECONDS = Number(process.env.LAB_TIMEOUT ?? 2400);
const CLI_TIMEOUT_MS = 60_000;
/** Where the guest finds kube-proxy's kubeconfig (hack/oracle/guest.sh writes it). */
const GUEST_KUBECONFIG = '/tmp/kube-local-up-oracle/kubeconfig';

const ci = process.env.CI === 'true';
const lab = await labAvailability();
const real = findRealSet();
const skip = lab.skip ?? ('skip' in real ? real.skip : undefined);
if (skip !== undefined && ci) throw new Error(`oracle: CI=true and ${skip}; the oracle never skips in CI`);

const cases: OracleCase[] = readdirSync(CASES_DIR)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .filter((file) => process.env.ORACLE_CASES === undefined || process.env.ORACLE_CASES.split(',').some((want) => file.startsWith(want)))
  .map((file) => readOracleCase(file.slice(0, -'.yaml'.length), readFileSync(join(CASES_DIR, file), 'utf8')));

describe('kube-proxy is the oracle: ipvs expect against real kube-proxy on the real kernel', { skip: skip ?? false }, () => {
  let output: GuestOutput | undefined;
  let verdict: OracleVerdict | undefined;
  let failure: string | undefined;

  before(async () => {
    if (lab.skip !== undefined || 'skip' in real) return;
    mkdirSync(OUT_DIR, { recursive: true });
    const generated = await runBin(['config', 'kube-proxy', '--mode', 'ipvs', '--hostname-override', ORACLE_NODE.name, '--kubeconfig', GUEST_KUBECONFIG], { cwd: ROOT, timeoutMs: CLI_TIMEOUT_MS, env: { ...process.env, IPVS_SCHEDULER: 'rr' } });
    if (generated.code !== 0) throw new Error(`local-up config kube-proxy failed: ${generated.stderr}`);
    const proxyConfig = generated.stdout;
    const files = { ...planOracleFiles(cases), 'kube-proxy.yaml': proxyConfig };
    const started = Date.now();
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
        env: { PATH: process.env.PATH, HOME: '/root' },
        capture: true,
        onStderr: (chunk) => process.stderr.write(chunk),
      },
      labDeps(),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    writeFileSync(join(OUT_DIR, 'guest-stdout.txt'), run.stdout ?? '');
    writeFileSync(join(OUT_DIR, 'guest-stderr.txt'), run.stderr ?? '');
    process.stderr.write(`# oracle: VM run ${seconds}s (boot ${((run.bootMs ?? 0) / 1000).toFixed(1)}s), exit ${run.exitCode}, output in ${OUT_DIR}\n`);
    output = readGuestOutput(run.stdout ?? '');
    if (run.exitCode !== 0 || !output.complete) {
      failure = `the oracle VM exited ${run.exitCode}${output.complete ? '' : ' before its end'}:\n${run.stderr ?? ''}\n${run.consoleTail}`;
      return;
    }
    writeFileSync(join(OUT_DIR, 'cluster.json'), JSON.stringify(output.clusterDump, null, 2));
    writeFileSync(join(OUT_DIR, 'ip_vs'), output.ipvs);
    writeFileSync(join(OUT_DIR, 'ip_vs.altered'), output.ipvsAltered);
    verdict = judgeOracleRun(output);
    process.stderr.write(`# oracle: kube-proxy synced every case ${output.syncSeconds}s after the first request\n`);
  });

  it('runs the real kube-proxy of the installed set, and its whole table has nothing the model does not expect', () => {
    if (failure !== undefined) assert.fail(failure);
    assert.ok(output !== undefined && verdict !== undefined && !('skip' in real));
    assert.match(output.version, new RegExp(`^Kubernetes v${real.versionText.replaceAll('.', '\\.')}$`));
    assert.deepEqual(verdict.problems, [], `${verdict.problems.join('\n')}\nkube-proxy's table:\n${output.ipvs}`);
    assert.equal(verdict.check.diff.counts.actualVirtualServers, verdict.check.diff.counts.matchedVirtualServers);
  });

  cases.forEach((c, i) => {
    it(`${c.name}: ${c.description}`, () => {
      if (failure !== undefined) assert.fail(failure);
      assert.ok(output !== undefined && verdict !== undefined);
      const services = c.objects.filter((o) => o.kind === 'Service');
      const result = judgeCase(verdict, output, guestCaseName(c, i), services);
      process.stderr.write(
        `# oracle: ${c.name}: ${result.virtualServers} virtual servers, ${result.problems.length === 0 ? 'match' : 'DIFFERENT'}; ` +
          `altered: ${result.alteredFound.join('; ') || 'nothing to alter'}\n`,
      );
      assert.deepEqual(result.problems, [], `${c.name}:\n${result.problems.join('\n')}\nkube-proxy's table:\n${output.ipvs}`);
    });
  });
});
