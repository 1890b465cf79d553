// smoke's manifests are pure data: names, labels that make leftovers findable,
// the Service shapes the checks rely on, restricted pod security, and that they
// survive the trip through YAML and through the same reader `assert` uses.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import YAML from 'yaml';
import { readClusterValue } from '../src/kube/read.js';
import { smokeManifests, smokeNamespaceName } from '../src/smoke/manifests.js';

test('namespace names are unique per run, DNS labels, and findable by label', () => {
  assert.equal(smokeNamespaceName('ab12cd'), 'local-up-smoke-ab12cd');
  assert.match(smokeNamespaceName(), /^local-up-smoke-[0-9a-f]{6}$/);
  assert.notEqual(smokeNamespaceName(), smokeNamespaceName());
  assert.throws(() => smokeNamespaceName('Bad_Suffix'), /bad namespace suffix/);
  const { namespace } = smokeManifests('local-up-smoke-ab12cd', 'img:1');
  assert.deepEqual(namespace.metadata.labels, { 'app.kubernetes.io/part-of': 'local-up-smoke', 'app.kubernetes.io/managed-by': 'kube-local-up' });
});

test('the backends, the client and the five Service shapes', () => {
  const { workloads } = smokeManifests('ns1', 'registry.k8s.io/e2e-test-images/agnhost:2.53');
  const [deployment, client, ...services] = workloads.items;
  assert.ok(deployment?.kind === 'Deployment' && client?.kind === 'Pod');
  assert.equal(deployment.spec.replicas, 3);
  assert.deepEqual(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'smoke-backend' });
  assert.ok(Object.entries(deployment.spec.selector.matchLabels).every(([k, v]) => deployment.spec.template.metadata.labels[k] === v), 'the selector selects the template');
  for (const pod of [deployment.spec.template.spec, client.spec]) {
    const container = pod.containers[0];
    assert.equal(container?.image, 'registry.k8s.io/e2e-test-images/agnhost:2.53');
    assert.deepEqual(container?.args, ['netexec', '--http-port=8080', '--udp-port=8081']);
    assert.deepEqual(container?.readinessProbe.httpGet, { path: '/healthz', port: 8080 });
    // Slow machines: a starved but answering backend stays ready (the lab lost 2 of 3 with the kubelet's 1 s default).
    assert.deepEqual([container?.readinessProbe.timeoutSeconds, container?.readinessProbe.failureThreshold], [5, 5]);
    // Pod Security "restricted": non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp.
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(container?.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  }
  const byName = Object.fromEntries(services.map((s) => [s.metadata.name, s]));
  assert.deepEqual(Object.keys(byName), ['clusterip', 'affinity', 'nodeport', 'udp', 'headless']);
  for (const service of services) {
    assert.equal(service.kind, 'Service');
    if (service.kind !== 'Service') continue;
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.equal(service.metadata.namespace, 'ns1');
  }
  const spec = (name: string) => (byName[name]?.kind === 'Service' ? byName[name].spec : undefined);
  assert.deepEqual(spec('affinity')?.sessionAffinityConfig, { clientIP: { timeoutSeconds: 60 } });
  assert.equal(spec('affinity')?.sessionAffinity, 'ClientIP');
  assert.equal(spec('nodeport')?.type, 'NodePort');
  assert.deepEqual(spec('udp')?.ports, [{ name: 'udp', protocol: 'UDP', port: 8081, targetPort: 8081 }]);
  assert.equal(spec('headless')?.clusterIP, 'None');
  assert.equal(spec('clusterip')?.clusterIP, undefined, 'the API server assigns the ClusterIP');
});

test('the manifests survive YAML and read as kube-proxy sees them (headless skipped, affinity kept)', () => {
  const { workloads } = smokeManifests('ns1', 'img:1');
  const again = YAML.parse(YAML.stringify(workloads)) as unknown;
  assert.deepEqual(again, JSON.parse(JSON.stringify(workloads)));
  // What the API server adds (ClusterIPs), then the same reader `assert` uses.
  const served = {
    ...workloads,
    items: workloads.items
      .filter((i) => i.kind === 'Service')
      .map((s, i) => ({ ...s, spec: { ...s.spec, ...(s.kind === 'Service' && s.spec.clusterIP === 'None' ? {} : { clusterIP: `10.96.1.${i + 1}` }) } })),
  };
  const cluster = readClusterValue(served);
  assert.deepEqual(cluster.services.map((s) => [s.name, s.type, s.clusterIP, s.sessionAffinity, s.affinityTimeoutSeconds]), [
    ['clusterip', 'ClusterIP', '10.96.1.1', 'None', null],
    ['affinity', 'ClusterIP', '10.96.1.2', 'ClientIP', 60],
    ['nodeport', 'NodePort', '10.96.1.3', 'None', null],
    ['udp', 'ClusterIP', '10.96.1.4', 'None', null],
    ['headless', 'ClusterIP', 'None', 'None', null],
  ]);
});
