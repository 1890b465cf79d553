import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { resolveSettings } from '../src/config/resolve.js';
import { isLocalUpError } from '../src/errors.js';
import type { LocalBinary } from '../src/providers/local/binaries.js';
import { corednsObjects } from '../src/providers/local/coredns.js';
import { launchArgv } from '../src/providers/local/session.js';
import type { ComponentName, LocalPlan } from '../src/providers/local/plan.js';
import { COMPONENTS, componentEnv, planLocalCluster } from '../src/providers/local/plan.js';
import { tempDir } from './helpers/cli.js';

const BIN: Record<LocalBinary, string> = {
  etcd: '/usr/bin/etcd',
  'kube-apiserver': '/k/kube-apiserver',
  'kube-controller-manager': '/k/kube-controller-manager',
  'kube-scheduler': '/k/kube-scheduler',
  kubelet: '/k/kubelet',
  'kube-proxy': '/k/kube-proxy',
};

function plan(env: Record<string, string> = {}, version = '1.34.11'): LocalPlan {
  const settings = resolveSettings({ flags: {}, env: { HOME: '/home/u', STATE_DIR: '/s', CLUSTER_PROVIDER: 'local', ...env }, dotenv: null }).values;
  return planLocalCluster({ settings, version: parseKubeVersion(version) as KubeVersion, binaries: BIN, clusterDir: '/s/local-up', resolvConf: '/etc/resolv.conf' });
}

const argvOf = (p: LocalPlan, name: ComponentName): readonly string[] => {
  const c = p.components.find((x) => x.name === name);
  assert.ok(c, `no ${name}`);
  return c.argv;
};
const file = (p: LocalPlan, suffix: string): unknown => {
  const f = p.files.find((x) => x.path.endsWith(suffix));
  assert.ok(f, `no file ${suffix}`);
  return YAML.parse(f.content);
};

describe('the local plan: start order and command lines', () => {
  it('starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy in that order', () => {
    assert.deepEqual(plan().components.map((c) => c.name), [...COMPONENTS]);
    assert.deepEqual(COMPONENTS, ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy']);
  });

  const defaults = plan();

  // The argument lists themselves are checked by the real binaries (test/real-components.test.ts:
  // every kube-* component and etcd parse every flag). Here: the flags and values the anchor passes,
  // from k8s.io/kubernetes v1.34.11 hack/local-up-cluster.sh (line numbers of that file), which the
  // plan must pass the same way.
  const FROM_LOCAL_UP_CLUSTER_SH: [ComponentName, string, string][] = [
    ['kube-apiserver', '--authorization-mode', 'Node,RBAC'], // 583: ${AUTHORIZATION_MODE:-Node,RBAC}
    ['kube-apiserver', '--enable-admission-plugins', 'NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,Priority,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,NodeRestriction'], // 132
    ['kube-apiserver', '--etcd-servers', 'http://127.0.0.1:2379'], // 690: http://${ETCD_HOST}:${ETCD_PORT}
    ['kube-apiserver', '--service-cluster-ip-range', '10.96.0.0/16'], // 691: SERVICE_CLUSTER_IP_RANGE (ours defaults to kind's range)
    ['kube-controller-manager', '--service-cluster-ip-range', '10.96.0.0/16'], // 748
    ['kube-controller-manager', '--use-service-account-credentials', ''], // 760
    ['kube-controller-manager', '--leader-elect', 'false'], // 762: LEADER_ELECT defaults to false
  ];
  for (const [name, flag, value] of FROM_LOCAL_UP_CLUSTER_SH) {
    it(`${name} passes ${flag}${value === '' ? '' : `=${value}`} as local-up-cluster.sh does`, () => {
      const argv = argvOf(defaults, name);
      assert.ok(argv.includes(value === '' ? flag : `${flag}=${value}`), `${name}: ${argv.join(' ')}`);
    });
  }

  it('a cgroup v1 host: failCgroupV1: false with a warning from 1.35 (when the kubelet started refusing it), nothing before or on cgroup v2', () => {
    const settings = resolveSettings({ flags: {}, env: { HOME: '/home/u', STATE_DIR: '/s', CLUSTER_PROVIDER: 'local' }, dotenv: null }).values;
    const at = (version: string, hostCgroupV1: boolean) => planLocalCluster({ settings, version: parseKubeVersion(version) as KubeVersion, binaries: BIN, clusterDir: '/s/local-up', resolvConf: '/etc/resolv.conf', hostCgroupV1 });
    const kubelet = (p: LocalPlan) => file(p, 'kubelet.yaml') as { failCgroupV1?: boolean };
    assert.equal(kubelet(at('1.37.2', true)).failCgroupV1, false);
    assert.ok(at('1.37.2', true).warnings.some((w) => /cgroup v1/.test(w)));
    assert.equal(kubelet(at('1.35.4', true)).failCgroupV1, false);
    assert.equal('failCgroupV1' in kubelet(at('1.34.11', true)), false);
    assert.equal('failCgroupV1' in kubelet(at('1.37.2', false)), false);
    assert.ok(!at('1.37.2', false).warnings.some((w) => /cgroup v1/.test(w)));
  });

  it('every file a command line names is one the plan writes or the PKI makes', () => {
    const written = new Set(defaults.files.map((f) => f.path));
    const certDir = defaults.layout.certDir;
    const pki = new Set([`${certDir}/ca.crt`, `${certDir}/ca.key`, `${certDir}/service-account.key`, `${certDir}/service-account.pub`, ...defaults.pki.certs.flatMap((c) => [`${certDir}/${c.id}.crt`, `${certDir}/${c.id}.key`])]);
    const named = defaults.components.flatMap((c) => c.argv.slice(1).flatMap((arg) => {
      const match = /^--([a-z-]*(?:file|config|kubeconfig))=(\/.+)$/.exec(arg);
      return match === null ? [] : [{ component: c.name, flag: match[1] as string, path: match[2] as string }];
    }));
    assert.ok(named.length >= 15, `${named.length} file flags`);
    for (const { component, flag, path } of named) assert.ok(written.has(path) || pki.has(path), `${component} --${flag}=${path} names a file nothing creates`);
  });

  it('readiness: etcd /health, TLS /healthz verified with the CA, kubelet and kube-proxy healthz', () => {
    const health = Object.fromEntries(defaults.components.map((c) => [c.name, c.health]));
    assert.deepEqual(health.etcd, { url: 'http://127.0.0.1:2379/health', expect: 'etcd-health' });
    assert.deepEqual(health['kube-apiserver'], { url: 'https://127.0.0.1:6443/healthz', caFile: '/s/local-up/pki/ca.crt', expect: 'ok' });
    assert.deepEqual(health['kube-controller-manager'], { url: 'https://127.0.0.1:10257/healthz', caFile: '/s/local-up/pki/ca.crt', expect: 'ok' });
    assert.deepEqual(health.kubelet, { url: 'http://127.0.0.1:10248/healthz', expect: 'ok' });
    assert.deepEqual(health['kube-proxy'], { url: 'http://127.0.0.1:10256/healthz', expect: 'status-200' });
    assert.equal(defaults.kubeProxy.proxyModeUrl, 'http://127.0.0.1:10249/proxyMode');
  });

  it('only the kubelet and kube-proxy run as root; through sudo -n when this user is not root', () => {
    assert.deepEqual(defaults.components.filter((c) => c.root).map((c) => c.name), ['kubelet', 'kube-proxy']);
    const kubelet = defaults.components.find((c) => c.name === 'kubelet');
    assert.ok(kubelet);
    assert.deepEqual(launchArgv(kubelet, 0, {}), kubelet.argv);
    // A sudo of our own first on PATH: the test must not depend on whether this machine has one.
    const bin = tempDir('local-up-sudo-');
    writeFileSync(join(bin, 'sudo'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    const sudoed = launchArgv(kubelet, 1000, { PATH: bin });
    assert.deepEqual(sudoed, [join(bin, 'sudo'), '-n', ...kubelet.argv]);
    assert.deepEqual(defaults.kubeProxy.cleanupArgv, ['/k/kube-proxy', '--v=3', '--config=/s/local-up/config/kube-proxy.yaml', '--cleanup']);
  });

  it("etcd does not see kube-local-up's ETCD_* settings (it would read ETCD_VERSION as its --version flag)", () => {
    const etcd = defaults.components.find((c) => c.name === 'etcd');
    assert.ok(etcd);
    const env = componentEnv({ PATH: '/bin', ETCD_VERSION: '3.4', ETCD_PORT: '1', ETCD_UNSUPPORTED_ARCH: 'arm64' }, etcd);
    assert.deepEqual(env, { PATH: '/bin', ETCD_UNSUPPORTED_ARCH: 'arm64' });
  });

  it('settings reach the flags: ports, API host/IP, advertise address, feature gates, log level, node name', () => {
    const p = plan({
      API_SECURE_PORT: '7443',
      API_HOST_IP: '192.168.1.10',
      API_HOST: 'dev.example',
      ETCD_PORT: '3379',
      FEATURE_GATES: 'Foo=true,Bar=false',
      KUBE_LOG_LEVEL: '5',
      HOSTNAME_OVERRIDE: 'node-a',
      SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/24',
    });
    const api = argvOf(p, 'kube-apiserver');
    assert.ok(api.includes('--secure-port=7443'));
    assert.ok(api.includes('--advertise-address=192.168.1.10'), 'API_HOST_IP other than 127.0.0.1 is advertised, as in the script');
    assert.ok(api.includes('--etcd-servers=http://127.0.0.1:3379'));
    assert.ok(api.includes('--feature-gates=Foo=true,Bar=false'));
    assert.ok(api.includes('--v=5'));
    assert.ok(api.includes('--service-cluster-ip-range=10.0.0.0/24'));
    assert.ok(argvOf(p, 'kube-scheduler').includes('--feature-gates=Foo=true,Bar=false'));
    assert.ok(argvOf(p, 'kubelet').includes('--hostname-override=node-a'));
    assert.equal(p.components.find((c) => c.name === 'kube-apiserver')?.health.url, 'https://192.168.1.10:7443/healthz');
    assert.equal(p.firstServiceIp, '10.0.0.1');
    assert.equal(p.dnsServerIp, '10.0.0.10');
    const apiCert = p.pki.certs.find((c) => c.id === 'serving-kube-apiserver');
    assert.deepEqual(apiCert?.ipAddresses, ['10.0.0.1', '127.0.0.1', '192.168.1.10']);
    assert.ok(apiCert?.dnsNames.includes('dev.example'));
    assert.equal(p.pki.certs.find((c) => c.id === 'client-kubelet')?.commonName, 'system:node:node-a');
    const kubeconfig = file(p, 'admin.kubeconfig') as { clusters: { cluster: { server: string } }[] };
    assert.equal(kubeconfig.clusters[0]?.cluster.server, 'https://dev.example:7443');
  });

  it('ADVERTISE_ADDRESS wins; with API_HOST_IP 127.0.0.1 and none set the API server chooses (no flag)', () => {
    assert.ok(argvOf(plan({ ADVERTISE_ADDRESS: '10.1.2.3' }), 'kube-apiserver').includes('--advertise-address=10.1.2.3'));
    assert.ok(!argvOf(plan(), 'kube-apiserver').some((a) => a.startsWith('--advertise-address')));
  });
});

describe('the generated configuration files', () => {
  it('kube-proxy.yaml: mode, clusterCIDR, hostnameOverride, kubeconfig, bind addresses, conntrack left alone, ipvs block', () => {
    const doc = file(plan({ KUBE_PROXY_MODE: 'ipvs', IPVS_SCHEDULER: 'wrr', IPVS_STRICT_ARP: 'true', KUBE_PROXY_HEALTHZ_PORT: '20256', KUBE_PROXY_METRICS_PORT: '20249' }), 'kube-proxy.yaml');
    assert.deepEqual(doc, {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'ipvs',
      clusterCIDR: '10.244.0.0/16',
      hostnameOverride: '127.0.0.1',
      clientConnection: { kubeconfig: '/s/local-up/pki/kube-proxy.kubeconfig' },
      metricsBindAddress: '127.0.0.1:20249',
      healthzBindAddress: '0.0.0.0:20256',
      conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      ipvs: { scheduler: 'wrr', strictARP: true },
    });
  });
  it('kube-proxy.yaml carries the feature gates its version needs (NFTablesProxyMode on 1.29-1.30)', () => {
    const doc = file(plan({ KUBE_PROXY_MODE: 'nftables', KUBE_VERSION: '1.29', FEATURE_GATES: 'Foo=true' }, '1.29.4'), 'kube-proxy.yaml') as { featureGates: Record<string, boolean> };
    assert.deepEqual(doc.featureGates, { NFTablesProxyMode: true, Foo: true });
  });
  it('kubelet.yaml: containerd endpoint, ports, healthz, auth, cluster DNS, resolv.conf', () => {
    const doc = file(plan({ CONTAINER_RUNTIME_ENDPOINT: 'unix:///run/k3s/containerd.sock', KUBELET_PORT: '11250', KUBELET_HEALTHZ_PORT: '11248', CGROUP_DRIVER: 'systemd' }), 'kubelet.yaml');
    assert.deepEqual(doc, {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: '127.0.0.1',
      port: 11250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 11248,
      containerRuntimeEndpoint: 'unix:///run/k3s/containerd.sock',
      cgroupDriver: 'systemd',
      failSwapOn: false,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: '/s/local-up/pki/ca.crt' } },
      authorization: { mode: 'Webhook' },
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      resolvConf: '/etc/resolv.conf',
    });
    assert.deepEqual((file(plan({ KUBE_ENABLE_CLUSTER_DNS: 'false' }), 'kubelet.yaml') as { clusterDNS: string[] }).clusterDNS, ['8.8.8.8']);
  });
  it('the API server reaches the kubelet at the InternalIP: a node named by an IP keeps the kubelet on it, one named by a host name on every address', () => {
    // Seen in the lab: with HOSTNAME_OVERRIDE=lab the API server dialed "lab" (Debian's /etc/hosts: 127.0.1.1) and every kubectl exec was refused.
    for (const p of [plan({}), plan({ HOSTNAME_OVERRIDE: 'lab' })]) {
      assert.ok(argvOf(p, 'kube-apiserver').includes('--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP'));
    }
    assert.equal((file(plan({}), 'kubelet.yaml') as { address: string }).address, '127.0.0.1');
    assert.equal((file(plan({ HOSTNAME_OVERRIDE: 'lab' }), 'kubelet.yaml') as { address: string }).address, '0.0.0.0');
    assert.equal((file(plan({ HOSTNAME_OVERRIDE: '192.168.50.10' }), 'kubelet.yaml') as { address: string }).address, '192.168.50.10');
    assert.equal(plan({ KUBE_ENABLE_CLUSTER_DNS: 'false' }).corednsManifest, null);
  });
  it('kube-scheduler.yaml names its kubeconfig and turns leader election off', () => {
    assert.deepEqual(file(plan(), 'kube-scheduler.yaml'), {
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      clientConnection: { kubeconfig: '/s/local-up/pki/scheduler.kubeconfig' },
      leaderElection: { leaderElect: false },
    });
  });
  it('component kubeconfigs point at CERT_DIR files and are 0600', () => {
    const p = plan();
    const kubeconfigs = p.files.filter((f) => f.path.endsWith('.kubeconfig'));
    assert.deepEqual(kubeconfigs.map((f) => f.path.split('/').pop()), ['admin.kubeconfig', 'controller.kubeconfig', 'scheduler.kubeconfig', 'kubelet.kubeconfig', 'kube-proxy.kubeconfig']);
    assert.ok(kubeconfigs.every((f) => f.mode === 0o600));
    const proxy = YAML.parse(kubeconfigs[4]?.content ?? '') as { users: { user: Record<string, string> }[] };
    assert.deepEqual(proxy.users[0]?.user, { 'client-certificate': '/s/local-up/pki/client-kube-proxy.crt', 'client-key': '/s/local-up/pki/client-kube-proxy.key' });
  });
  it('CoreDNS: kube-dns on KUBE_DNS_SERVER_IP with 53/UDP, 53/TCP and 9153/TCP, the image setting, the domain', () => {
    const objects = corednsObjects({ image: 'registry.example/coredns:v9', dnsServerIp: '10.0.0.10', dnsDomain: 'example.local' }) as { kind: string; spec?: Record<string, unknown>; data?: Record<string, string> }[];
    assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service']);
    const service = objects.find((o) => o.kind === 'Service');
    assert.equal(service?.spec?.clusterIP, '10.0.0.10');
    assert.deepEqual((service?.spec?.ports as { port: number; protocol: string }[]).map((p) => `${p.port}/${p.protocol}`), ['53/UDP', '53/TCP', '9153/TCP']);
    assert.match(objects.find((o) => o.kind === 'ConfigMap')?.data?.Corefile ?? '', /kubernetes example\.local in-addr\.arpa ip6\.arpa/);
    assert.match(JSON.stringify(objects.find((o) => o.kind === 'Deployment')), /"image":"registry\.example\/coredns:v9"/);
  });
});

describe('settings the local provider refuses (usage errors naming the setting)', () => {
  const refuse = (env: Record<string, string>, pattern: RegExp) => {
    assert.throws(() => plan(env), (error: unknown) => {
      assert.ok(isLocalUpError(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, pattern);
      return true;
    });
  };
  it('non-IPv4 families', () => refuse({ IP_FAMILY: 'dual' }, /IP_FAMILY=dual: the local provider runs IPv4 clusters only/));
  it('a DNS address outside the service range', () => refuse({ KUBE_DNS_SERVER_IP: '10.200.0.10' }, /KUBE_DNS_SERVER_IP=10\.200\.0\.10 is outside SERVICE_CLUSTER_IP_RANGE=10\.96\.0\.0\/16/));
  it('the DNS address on the kubernetes Service address', () => refuse({ KUBE_DNS_SERVER_IP: '10.96.0.1' }, /is the first service address/));
  it('two components on one port', () => refuse({ KUBELET_PORT: '6443' }, /API_SECURE_PORT and KUBELET_PORT are all 6443/));
  it('a range too small for the two Services', () => refuse({ SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/30', KUBE_DNS_SERVER_IP: '10.0.0.2' }, /is too small/));
});
