// `local-up smoke` run as a real process against the stand-in kind, docker and
// kubectl (test doubles; test/stand-ins/smoke-api.mjs plays the API server and
// a kube-proxy that renders each node's /proc/net/ip_vs from the smoke
// Services). Proves the Kubernetes side: the manifests, the waits, the order of
// the checks, the reports, cleanup (after a failure and on Ctrl-C) and --keep.
// The traffic analysis itself runs for real in test/lab-smoke.test.ts.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { childrenNamed, parseXml } from './helpers/xml.js';
import type { XmlElement } from './helpers/xml.js';
import { tempDir } from './helpers/cli.js';
import { makeWorld, runCli, standInEnv, waitFor } from './helpers/stand-ins.js';
import type { WorldJson } from './helpers/stand-ins.js';
import { junitSchemaErrors, xmllintMissing } from './fixtures/junit/xmllint.js';
import { AGNHOST_HOST_TOOLS } from '../src/tools/images.js';

const UP = ['up', '--name', 'kind', '--workers', '1'];
/** Short bounds: a fault must not make a test wait for the real defaults. */
const FAST = { SMOKE_SYNC_TIMEOUT: '2', SMOKE_READY_TIMEOUT: '4' };

interface SmokeJson {
  ok: boolean;
  namespace: string;
  mode: string;
  cleanup: string;
  nodes: string[];
  counts: Record<string, number>;
  cases: { group: string; name: string; status: string; message: string; evidence: string[] }[];
}

type Faults = Record<string, unknown>;

async function upCluster(mode: 'ipvs' | 'iptables' = 'ipvs', faults: Faults = {}) {
  const world = makeWorld();
  world.write({ ...world.read(), smoke: faults });
  const env = standInEnv(world, { extra: FAST });
  const up = await runCli([...UP, '--mode', mode], env);
  assert.equal(up.code, 0, up.stderr);
  return { world, env, kubeconfig: join(env.STATE_DIR as string, 'kind', 'kubeconfig') };
}

const kubectlArgs = (world: ReturnType<typeof makeWorld>) => world.calls('kubectl').map((c) => ({ argv: c.argv.slice(2), stdin: c.stdin }));
const smokeNamespacesLeft = (world: ReturnType<typeof makeWorld>) => Object.keys((world.read() as WorldJson & { clusters: Record<string, { namespaces?: object }> }).clusters.kind?.namespaces ?? {});
const byName = (report: SmokeJson, name: string) => {
  const found = report.cases.find((c) => c.name === name);
  assert.ok(found, `no case "${name}" in ${report.cases.map((c) => c.name).join(' | ')}`);
  return found;
};

function testcases(xml: string): XmlElement[] {
  const root = parseXml(xml);
  return childrenNamed(root, 'testsuite').flatMap((suite) => childrenNamed(suite, 'testcase'));
}

function assertValidJunit(t: { skip: (reason: string) => void }, file: string): void {
  const missing = xmllintMissing();
  if (missing !== undefined) {
    t.skip(`JUnit schema validation skipped: ${missing}`);
    return;
  }
  assert.deepEqual(junitSchemaErrors(file), []);
}

describe('local-up smoke (stand-ins)', () => {
  test('a passing run: manifests, waits, every check in order, JUnit and JSON, namespace deleted', async (t) => {
    const { world, env, kubeconfig } = await upCluster();
    const junit = join(tempDir(), 'smoke.xml');
    const result = await runCli(['smoke', '--name', 'kind', '--json', '--junit', junit], env);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as SmokeJson;
    assert.equal(report.ok, true);
    assert.equal(report.mode, 'ipvs');
    assert.deepEqual(report.nodes, ['kind-control-plane', 'kind-worker']);
    assert.match(report.namespace, /^local-up-smoke-[0-9a-f]{6}$/);
    assert.equal(report.cleanup, 'deleted');
    assert.deepEqual(report.counts, { passed: 21, failed: 0, error: 0, skipped: 0 });
    // The order of the checks.
    assert.deepEqual([...new Set(report.cases.map((c) => c.group))], ['setup', 'proxy-mode', 'ipvs', 'headless', 'spread', 'affinity', 'affinity-ipvs', 'nodeport', 'udp', 'dns', 'scale-ipvs', 'scale-traffic']);
    assert.deepEqual(report.cases.filter((c) => c.group === 'ipvs').map((c) => c.name), [
      'IPVS on kind-control-plane: Service affinity port http',
      'IPVS on kind-control-plane: Service clusterip port http',
      'IPVS on kind-control-plane: Service nodeport port http',
      'IPVS on kind-control-plane: Service udp port udp',
      'IPVS on kind-worker: Service affinity port http',
      'IPVS on kind-worker: Service clusterip port http',
      'IPVS on kind-worker: Service nodeport port http',
      'IPVS on kind-worker: Service udp port udp',
    ]);
    // Evidence: the real servers as the node's table shows them, kube-ipvs0, HZ-converted persistence.
    const clusterip = byName(report, 'IPVS on kind-worker: Service clusterip port http');
    assert.match(clusterip.evidence.join('\n'), /^ClusterIP TCP\/10\.96\.200\.10:80: rr: 10\.244\.\d\.\d+:8080 w1, 10\.244\.\d\.\d+:8080 w1, 10\.244\.\d\.\d+:8080 w1$/m);
    assert.match(clusterip.evidence.join('\n'), /^10\.96\.200\.10 is bound to kube-ipvs0$/m);
    assert.match(byName(report, 'IPVS on kind-worker: Service nodeport port http').evidence.join('\n'), /^NodePort TCP\/172\.18\.0\.3:31020: rr: /m);
    const persistence = byName(report, 'IPVS persistence timeout of the affinity Service on every node');
    assert.match(persistence.evidence.join('\n'), /^node kind-worker: TCP\/10\.96\.200\.11:80 rr persistent 60 s \(HZ 250 from node kind-worker's kernel config\)$/m);
    const spread = byName(report, 'ClusterIP Service spreads requests over the backends (rr: even)');
    assert.match(spread.message, /^30 answers: backend-\S+ 10, backend-\S+ 10, backend-\S+ 10 \(even: each 10 ± 3\)$/);
    assert.match(byName(report, 'ClientIP affinity keeps one client on one backend').message, /^10 answers: (backend-\S+ (10|0)(, )?){3} \(sticky\)$/);
    assert.match(byName(report, 'DNS name of the ClusterIP Service resolves through kube-dns and answers').evidence.join('\n'), /kube-system\/kube-dns ClusterIP 10\.96\.0\.10; the client's nameservers: 10\.96\.0\.10/);
    assert.match(byName(report, 'after scaling to 1, removed backends leave IPVS on every node').evidence.join('\n'), /^node kind-worker: no destination at a removed address$/m);

    // What was created: the namespace with its labels, then one List with the workloads.
    const calls = kubectlArgs(world);
    const create = calls.find((c) => c.argv[0] === 'create');
    const namespace = JSON.parse(create?.stdin ?? '{}');
    assert.deepEqual(namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: report.namespace, labels: { 'app.kubernetes.io/part-of': 'local-up-smoke', 'app.kubernetes.io/managed-by': 'kube-local-up' } } });
    const list = JSON.parse(calls.find((c) => c.argv[0] === 'apply')?.stdin ?? '{}');
    // Every program smoke runs in its client pod is in the agnhost image `tools images` builds (its host tools).
    const execd = new Set(calls.filter((c) => c.argv.includes('exec')).map((c) => c.argv[c.argv.indexOf('--') + 1]));
    assert.deepEqual([...execd].sort(), ['cat', 'curl', 'dig']);
    for (const program of execd) assert.ok((AGNHOST_HOST_TOOLS as readonly string[]).includes(program ?? ''), `${program} is not in the locally built agnhost image`);
    // Without client-side validation: kubectl's would first fetch /openapi/v2 with its own fixed
    // 32 s timeout, which an emulated API server missed in the lab (src/kube/kubectl.ts NO_CLIENT_VALIDATION).
    assert.deepEqual(calls.filter((c) => c.argv[0] === 'create' || c.argv[0] === 'apply').map((c) => c.argv.slice(0, 4).join(' ')), ['create --validate=false -f -', 'apply --validate=false -f -']);
    assert.deepEqual(list.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`), ['Deployment/backend', 'Pod/client', 'Service/clusterip', 'Service/affinity', 'Service/nodeport', 'Service/udp', 'Service/headless']);
    const deployment = list.items[0];
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(deployment.spec.template.spec.containers[0].image, 'registry.k8s.io/e2e-test-images/agnhost:2.53');
    assert.deepEqual(deployment.spec.template.spec.containers[0].args, ['netexec', '--http-port=8080', '--udp-port=8081']);
    assert.deepEqual(list.items[3].spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 60 } });
    assert.equal(list.items[6].spec.clusterIP, 'None');
    // The order of the waits and the last call: rollout, client Ready, probes through the client, scale, delete.
    const verbs = calls.map((c) => c.argv.filter((a) => !a.startsWith('-') && a !== report.namespace)[0]);
    const at = (verb: string) => verbs.indexOf(verb);
    assert.ok(at('create') < at('apply') && at('apply') < at('rollout') && at('rollout') < at('wait') && at('wait') < at('exec') && at('exec') < at('scale'));
    assert.deepEqual(calls.at(-1)?.argv, ['delete', 'namespace', report.namespace, '--ignore-not-found', '--wait=false']);
    assert.ok(calls.some((c) => c.argv.join(' ').startsWith(`-n ${report.namespace} exec client -- curl -sS --max-time 195 http://127.0.0.1:8080/dial?request=hostname&protocol=http&host=10.96.200.10&port=80&tries=30`)));
    assert.ok(calls.some((c) => c.argv.join(' ') === `-n ${report.namespace} scale deployment/backend --replicas=1`));
    for (const call of world.calls('kubectl').filter((c) => c.argv[0] !== 'version')) assert.deepEqual(call.argv.slice(0, 2), ['--kubeconfig', kubeconfig]);
    assert.deepEqual(smokeNamespacesLeft(world), []);

    const xml = readFileSync(junit, 'utf8');
    const cases = testcases(xml);
    assert.equal(cases.length, 21);
    assert.equal(childrenNamed(parseXml(xml), 'testsuite')[0]?.attributes.failures, '0');
    assert.ok(cases.every((c) => childrenNamed(c, 'system-out').length === 1), 'passing cases carry their evidence');
    assertValidJunit(t, junit);
  });

  test("a node's table lacks a backend: exit 1, JUnit names the Service, the node and the evidence; namespace deleted", async (t) => {
    const { world, env } = await upCluster('ipvs', { dropRealServer: { node: 'kind-worker', backend: 1 } });
    const junit = join(tempDir(), 'smoke.xml');
    const result = await runCli(['smoke', '--name', 'kind', '--junit', junit], env);
    assert.equal(result.code, 1, result.stderr);
    // Every TCP and UDP Service on kind-worker misses it; kind-control-plane is fine.
    assert.match(result.stdout, /^FAIL IPVS on kind-worker: Service clusterip port http: missing real server (10\.244\.\d\.\d+):8080 on TCP\/10\.96\.200\.10:80$/m);
    assert.match(result.stdout, /^FAIL IPVS on kind-worker: Service udp port udp: missing real server 10\.244\.\d\.\d+:8081 on UDP\/10\.96\.200\.13:8081$/m);
    assert.match(result.stdout, /^PASS IPVS on kind-control-plane: Service clusterip port http:/m);
    assert.match(result.stdout, /^namespace local-up-smoke-[0-9a-f]{6}: deleted$/m);
    assert.match(result.stdout, /^smoke: FAIL \(\d+ passed, 4 failed, 0 errors, 0 skipped/m);
    assert.match(result.stderr, /^log: .*smoke-.*\.log$/m);

    const failing = testcases(readFileSync(junit, 'utf8')).find((c) => c.attributes.name === 'IPVS on kind-worker: Service clusterip port http');
    assert.ok(failing);
    assert.equal(failing.attributes.classname, 'smoke.ipvs');
    const failure = childrenNamed(failing, 'failure')[0];
    assert.ok(failure);
    assert.match(failure.attributes.message ?? '', /^missing real server 10\.244\.\d\.\d+:8080 on TCP\/10\.96\.200\.10:80$/);
    assert.match(failure.text, /^ClusterIP TCP\/10\.96\.200\.10:80: rr: 10\.244\.\d\.\d+:8080 w1, 10\.244\.\d\.\d+:8080 w1$/m, 'the evidence shows the two real servers the table has');
    assert.deepEqual(smokeNamespacesLeft(world), []);
    assertValidJunit(t, junit);
  });

  test('one backend never answers: the spread check fails with the counts and the errors', async () => {
    const { world, env } = await upCluster('ipvs', { silentBackend: 2 });
    const result = await runCli(['smoke', '--name', 'kind', '--json'], env);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as SmokeJson;
    const spread = byName(report, 'ClusterIP Service spreads requests over the backends (rr: even)');
    assert.equal(spread.status, 'failed');
    assert.match(spread.message, /^10 of 30 requests failed: Get "http:\/\/10\.96\.200\.10:80\/hostname": context deadline exceeded/);
    const counts = spread.evidence.find((line) => line.startsWith('20 answers: '))?.match(/ (\d+)(?=,|$)/g)?.map(Number);
    assert.deepEqual(counts?.sort(), [0, 10, 10], spread.evidence.join('\n'));
    // The table is right: only the traffic shows it.
    assert.ok(report.cases.filter((c) => c.group === 'ipvs').every((c) => c.status === 'passed'));
    assert.equal(byName(report, 'UDP Service answers').status, 'failed');
    assert.deepEqual(smokeNamespacesLeft(world), []);
  });

  test('removed backends: draining at weight 0 passes; still at weight 1 fails within the bound, naming node and backend', async () => {
    const draining = await upCluster('ipvs', { removedAfterScale: 'weight0' });
    const ok = JSON.parse((await runCli(['smoke', '--name', 'kind', '--json'], draining.env)).stdout) as SmokeJson;
    const passed = byName(ok, 'after scaling to 1, removed backends leave IPVS on every node');
    assert.equal(passed.status, 'passed');
    assert.match(passed.evidence.join('\n'), /^node kind-worker: 10\.244\.\d\.\d+:8080 draining at weight 0 on TCP\/10\.96\.200\.10:80$/m);

    const stuck = await upCluster('ipvs', { removedAfterScale: 'stuck' });
    const result = await runCli(['smoke', '--name', 'kind', '--json'], stuck.env);
    assert.equal(result.code, 1);
    const failed = byName(JSON.parse(result.stdout) as SmokeJson, 'after scaling to 1, removed backends leave IPVS on every node');
    assert.equal(failed.status, 'failed');
    assert.match(failed.message, /^after 2\.0s, 10\.244\.\d\.\d+:8080 on TCP\/10\.96\.200\.10:80 still gets new connections on nodes kind-control-plane, kind-worker$/);
    assert.match(failed.evidence.join('\n'), /^node kind-worker: 10\.244\.\d\.\d+:8081 still has weight 1 on UDP\/10\.96\.200\.13:8081$/m);
    assert.deepEqual(smokeNamespacesLeft(stuck.world), []);
  });

  test('--keep leaves the labelled namespace and says how to delete it', async () => {
    const { world, env, kubeconfig } = await upCluster();
    const result = await runCli(['smoke', '--name', 'kind', '--keep'], env);
    assert.equal(result.code, 0, result.stderr);
    const [namespace] = smokeNamespacesLeft(world);
    assert.ok(namespace !== undefined);
    assert.match(result.stdout, new RegExp(`^namespace ${namespace}: kept \\(--keep\\); delete it with: kubectl --kubeconfig ${kubeconfig} delete namespace ${namespace}$`, 'm'));
    assert.ok(!world.calls('kubectl').some((c) => c.argv.includes('delete') && c.argv.includes('namespace')));
  });

  test('setup fails (rollout times out): the evidence, every later check skipped, namespace deleted, exit 1', async (t) => {
    const { world, env } = await upCluster('ipvs', { rollout: 'fail' });
    const junit = join(tempDir(), 'smoke.xml');
    const result = await runCli(['smoke', '--name', 'kind', '--json', '--junit', junit], env);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as SmokeJson;
    assert.equal(report.cases[0]?.status, 'failed');
    assert.match(report.cases[0]?.message ?? '', /^the backends did not become ready within 4s \(SMOKE_READY_TIMEOUT\)$/);
    assert.match(report.cases[0]?.evidence.join('\n') ?? '', /error: timed out waiting for the condition/);
    assert.equal(report.cases.length, 12);
    assert.ok(report.cases.slice(1).every((c) => c.status === 'skipped' && c.message === 'not run: setup failed'));
    assert.deepEqual(smokeNamespacesLeft(world), []);
    const skipped = testcases(readFileSync(junit, 'utf8')).filter((c) => childrenNamed(c, 'skipped').length === 1);
    assert.equal(skipped.length, 11);
    assert.equal(childrenNamed(skipped[0] as XmlElement, 'skipped')[0]?.text, 'not run: setup failed');
    assertValidJunit(t, junit);
  });

  test('Ctrl-C while waiting for the backends: namespace deleted, exit 130, no stand-in left running', async () => {
    const { world, env } = await upCluster('ipvs', { rollout: 'hang' });
    const marker = join(world.dir, 'kubectl-rollout-hanging');
    const result = await runCli(['smoke', '--name', 'kind'], env, (child) => {
      void waitFor(() => existsSync(marker)).then(() => child.kill('SIGINT'));
    });
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted: stopping and cleaning up/);
    assert.match(result.stdout, /^smoke: INTERRUPTED/m);
    assert.ok(world.calls('kubectl').some((c) => c.argv.includes('delete') && c.argv.includes('namespace')));
    assert.deepEqual(smokeNamespacesLeft(world), []);
    await waitFor(() => world.livePids().length === 0, 5_000);
  });

  test('iptables mode: IPVS checks are skipped with the reason, traffic checks run', async () => {
    const { env } = await upCluster('iptables');
    const result = await runCli(['smoke', '--name', 'kind', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as SmokeJson;
    assert.equal(report.mode, 'iptables');
    const skipped = report.cases.filter((c) => c.status === 'skipped');
    assert.deepEqual(skipped.map((c) => c.group), ['ipvs', 'headless', 'affinity-ipvs', 'scale-ipvs']);
    assert.ok(skipped.every((c) => c.message === 'skipped: KUBE_PROXY_MODE=iptables programs no IPVS table'));
    // iptables picks endpoints at random: the rule is coverage.
    assert.equal(byName(report, 'ClusterIP Service spreads requests over the backends (iptables: coverage)').status, 'passed');
    assert.equal(byName(report, "kube-proxy /proxyMode on kind-worker").message, 'kube-proxy runs in iptables mode');
  });

  test('any cluster with --kubeconfig: nodes read through helper pods that are deleted afterwards', async () => {
    const { world, env, kubeconfig } = await upCluster();
    const result = await runCli(['smoke', '--kubeconfig', kubeconfig, '--mode', 'ipvs', '--json'], { ...env, STATE_DIR: tempDir() });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as SmokeJson;
    assert.equal(report.counts.passed, 21);
    const helpers = world.calls('kubectl').filter((c) => c.argv.includes('create') && c.stdin?.includes('"hostNetwork":true'));
    assert.equal(helpers.length, 2);
    assert.ok(world.calls('kubectl').some((c) => c.argv.join(' ').includes('-n kube-system exec local-up-ipvs-kind-worker-') && c.argv.includes('/proc/net/ip_vs')));
    assert.deepEqual((world.read().clusters.kind as { pods: object }).pods, {}, 'helper pods deleted');
    assert.deepEqual(smokeNamespacesLeft(world), []);
  });

  test('bad usage changes nothing: no recorded cluster, or a --junit folder that does not exist (exit 2)', async () => {
    const world = makeWorld();
    const env = standInEnv(world);
    const none = await runCli(['smoke'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /error: kube-local-up has no record of a cluster named "local-up"/);
    assert.match(none.stderr, /hint: .*--kubeconfig FILE/);
    const up = await upCluster();
    const badJunit = await runCli(['smoke', '--name', 'kind', '--junit', '/nonexistent/dir/smoke.xml'], up.env);
    assert.equal(badJunit.code, 2);
    assert.match(badJunit.stderr, /error: --junit \/nonexistent\/dir\/smoke\.xml: the folder \/nonexistent\/dir does not exist/);
    assert.ok(!up.world.calls('kubectl').some((c) => c.argv.includes('namespace') || c.argv.includes('apply')));
  });
});
