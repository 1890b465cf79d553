import assert from 'node:assert/strict';
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
  const table: [ComponentName, string[]][] = [
    ['etcd', ['/usr/bin/etcd', '--name=default', '--data-dir=/s/local-up/etcd', '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379', '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380', '--initial-cluster=default=http://127.0.0.1:2380', '--log-level=warn']],
    ['kube-apiserver', ['/k/kube-apiserver', '--v=3', '--authorization-mode=Node,RBAC', '--bind-address=0.0.0.0', '--secure-port=6443', '--tls-cert-file=/s/local-up/pki/serving-kube-apiserver.crt', '--tls-private-key-file=/s/local-up/pki/serving-kube-apiserver.key', '--client-ca-file=/s/local-up/pki/ca.crt', '--kubelet-client-certificate=/s/local-up/pki/client-kube-apiserver.crt', '--kubelet-client-key=/s/local-up/pki/client-kube-apiserver.key', '--service-account-key-file=/s/local-up/pki/service-account.pub', '--service-account-signing-key-file=/s/local-up/pki/service-account.key', '--service-account-issuer=https://kubernetes.default.svc', '--etcd-servers=http://127.0.0.1:2379', '--service-cluster-ip-range=10.96.0.0/16', '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,Priority,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,NodeRestriction']],
    ['kube-controller-manager', ['/k/kube-controller-manager', '--v=3', '--kubeconfig=/s/local-up/pki/controller.kubeconfig', '--authentication-kubeconfig=/s/local-up/pki/controller.kubeconfig', '--authorization-kubeconfig=/s/local-up/pki/controller.kubeconfig', '--service-account-private-key-file=/s/local-up/pki/service-account.key', '--root-ca-file=/s/local-up/pki/ca.crt', '--cluster-signing-cert-file=/s/local-up/pki/ca.crt', '--cluster-signing-key-file=/s/local-up/pki/ca.key', '--service-cluster-ip-range=10.96.0.0/16', '--cluster-cidr=10.244.0.0/16', '--use-service-account-credentials', '--controllers=*', '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=10257', '--tls-cert-file=/s/local-up/pki/serving-kube-controller-manager.crt', '--tls-private-key-file=/s/local-up/pki/serving-kube-controller-manager.key']],
    ['kube-scheduler', ['/k/kube-scheduler', '--v=3', '--config=/s/local-up/config/kube-scheduler.yaml', '--authentication-kubeconfig=/s/local-up/pki/scheduler.kubeconfig', '--authorization-kubeconfig=/s/local-up/pki/scheduler.kubeconfig', '--bind-address=127.0.0.1', '--secure-port=10259', '--tls-cert-file=/s/local-up/pki/serving-kube-scheduler.crt', '--tls-private-key-file=/s/local-up/pki/serving-kube-scheduler.key']],
    ['kubelet', ['/k/kubelet', '--v=3', '--hostname-override=127.0.0.1', '--kubeconfig=/s/local-up/pki/kubelet.kubeconfig', '--config=/s/local-up/config/kubelet.yaml']],
    ['kube-proxy', ['/k/kube-proxy', '--v=3', '--config=/s/local-up/config/kube-proxy.yaml']],
  ];
  for (const [name, argv] of table) {
    it(`${name}: the full command line with the default settings`, () => assert.deepEqual(argvOf(defaults, name), argv));
  }

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
    const sudoed = launchArgv(kubelet, 1000, { PATH: '/usr/bin:/bin' });
    assert.deepEqual(sudoed.slice(1), ['-n', ...kubelet.argv]);
    assert.match(sudoed[0] ?? '', /sudo$/);
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
