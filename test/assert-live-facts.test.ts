// Live assert hands each node's facts to the model as offline assert takes them from flags:
// its zone label, the kube-proxy release and its InternalIPs (nodeModelFacts, pure).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { nodeModelFacts } from '../src/cli/commands/assert-live.js';
import { resolveSettings } from '../src/config/resolve.js';

describe('what live assert tells the model about a node', () => {
  const node = (kubeletVersion: string | null, zone: string | null = 'zone-a') => ({ name: 'n', internalIPs: ['10.0.0.5', 'fd00::5'], ready: true, zone, kubeletVersion });
  const settings = (env: Record<string, string>) => resolveSettings({ flags: {}, env, dotenv: null });
  test('the release: KUBE_VERSION when given, else the kubelet version without its build suffix, else the default', () => {
    assert.deepEqual(nodeModelFacts(node('v1.29.15+k3s1'), settings({})).kubeVersion, { major: 1, minor: 29, patch: 15 });
    assert.deepEqual(nodeModelFacts(node('v1.30.0-eks-1a2b3c'), settings({})).kubeVersion, { major: 1, minor: 30, patch: 0 });
    assert.deepEqual(nodeModelFacts(node('v1.29.15'), settings({ KUBE_VERSION: '1.34.11' })).kubeVersion, { major: 1, minor: 34, patch: 11 });
    assert.deepEqual(nodeModelFacts(node(null), settings({})).kubeVersion, settings({}).values.kubeVersion);
    assert.deepEqual(nodeModelFacts(undefined, settings({})), { zone: null, kubeVersion: settings({}).values.kubeVersion, primaryAddresses: [] });
  });
  test('the zone label and the InternalIPs pass through', () => {
    const facts = nodeModelFacts(node('v1.34.11'), settings({}));
    assert.equal(facts.zone, 'zone-a');
    assert.deepEqual(facts.primaryAddresses, ['10.0.0.5', 'fd00::5']);
    assert.equal(nodeModelFacts(node('v1.34.11', null), settings({})).zone, null);
  });
});
