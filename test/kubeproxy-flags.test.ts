// kube-proxy flags per version: the bind-address flags changed shape twice
// (IP + port flag from 1.13, IP:port from 1.18), and before 1.7 flags are all
// there is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKubeVersion } from '../src/config/kube-version.js';
import type { KubeVersion } from '../src/config/kube-version.js';
import { isLocalUpError } from '../src/errors.js';
import { planKubeProxyConfig } from '../src/kubeproxy/config.js';
import { featureGatesText, splitHostPort } from '../src/kubeproxy/flags.js';

function ver(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  assert.ok(v, text);
  return v;
}

const addresses = { metricsBindAddress: '0.0.0.0:10249', healthzBindAddress: '[::]:10256' } as const;

describe('metrics and healthz addresses as flags', () => {
  it('1.18+: IP:port in the address flags', () => {
    const plan = planKubeProxyConfig({ version: ver('1.18.0'), mode: 'ipvs', ...addresses });
    assert.deepEqual(plan.flags.filter((f) => /bind-address|-port=/.test(f)), ['--metrics-bind-address=0.0.0.0:10249', '--healthz-bind-address=[::]:10256']);
    assert.deepEqual(plan.flagGaps, []);
  });
  it('1.13-1.17: the IP in the address flag, the port in its own flag', () => {
    const plan = planKubeProxyConfig({ version: ver('1.17.17'), mode: 'ipvs', ...addresses });
    assert.deepEqual(plan.flags.filter((f) => /bind-address|-port=/.test(f)), [
      '--metrics-bind-address=0.0.0.0', '--metrics-port=10249', '--healthz-bind-address=::', '--healthz-port=10256',
    ]);
  });
  it('1.7-1.12: the metrics address has no working flag, a gap unless flags are required', () => {
    const plan = planKubeProxyConfig({ version: ver('1.12.10'), mode: 'ipvs', ...addresses });
    assert.ok(!plan.flags.some((f) => f.startsWith('--metrics')), plan.flags.join(' '));
    assert.equal(plan.flagGaps.length, 1);
    assert.match(plan.flagGaps[0] ?? '', /metrics address 0\.0\.0\.0:10249: kube-proxy 1\.12\.10 cannot set it with flags/);
    assert.equal(plan.document?.metricsBindAddress, '0.0.0.0:10249', 'the config file carries it');
    assert.throws(
      () => planKubeProxyConfig({ version: ver('1.12.10'), mode: 'ipvs', ...addresses, flagsRequired: true }),
      (error: unknown) => isLocalUpError(error) && error.exitCode === 2 && /cannot set it with flags.*use the config file/.test(error.message),
    );
  });
  it('before 1.7: no config file, so a flag gap is an error', () => {
    assert.throws(
      () => planKubeProxyConfig({ version: ver('1.6.0'), mode: 'iptables', metricsBindAddress: '127.0.0.1:10249' }),
      (error: unknown) => isLocalUpError(error) && /serves metrics on the healthz address .*no config file before 1\.7/.test(error.message),
    );
    const plan = planKubeProxyConfig({ version: ver('1.6.0'), mode: 'iptables', healthzBindAddress: '0.0.0.0:10249' });
    assert.deepEqual(plan.flags, ['--proxy-mode=iptables', '--healthz-bind-address=0.0.0.0', '--healthz-port=10249']);
  });
});

describe('IPVS and other flags', () => {
  it('renders every IPVS setting with kube-proxy\'s flag names (1.34)', () => {
    const plan = planKubeProxyConfig({
      version: ver('1.34.0'), mode: 'ipvs', clusterCidr: '10.244.0.0/16', hostnameOverride: 'n1', kubeconfig: '/k.conf',
      featureGates: { Foo: true }, nodePortAddresses: ['10.0.0.0/8', 'fd00::/64'],
      ipvs: { scheduler: 'lc', strictArp: true, syncPeriod: '20s', minSyncPeriod: '1s', tcpTimeout: '1h', tcpFinTimeout: '30s', udpTimeout: '10s', excludeCidrs: ['10.1.0.0/16', '10.2.0.0/16'] },
    });
    assert.deepEqual(plan.flags, [
      '--proxy-mode=ipvs', '--cluster-cidr=10.244.0.0/16', '--hostname-override=n1', '--kubeconfig=/k.conf', '--feature-gates=Foo=true',
      '--nodeport-addresses=10.0.0.0/8,fd00::/64',
      '--ipvs-scheduler=lc', '--ipvs-sync-period=20s', '--ipvs-min-sync-period=1s', '--ipvs-exclude-cidrs=10.1.0.0/16,10.2.0.0/16',
      '--ipvs-strict-arp=true', '--ipvs-tcp-timeout=1h', '--ipvs-tcpfin-timeout=30s', '--ipvs-udp-timeout=10s',
    ]);
  });
  it('passes the gate IPVS needs on 1.8', () => {
    assert.deepEqual(planKubeProxyConfig({ version: ver('1.8.0'), mode: 'ipvs' }).flags, ['--proxy-mode=ipvs', '--feature-gates=SupportIPVSProxyMode=true', '--ipvs-scheduler=rr']);
  });
  it('writes no --ipvs-* flag outside IPVS mode', () => {
    const plan = planKubeProxyConfig({ version: ver('1.31.0'), mode: 'nftables', ipvs: { scheduler: 'wrr', strictArp: true } });
    assert.deepEqual(plan.flags, ['--proxy-mode=nftables']);
  });
});

it('formats gates and splits addresses like kube-proxy reads them', () => {
  assert.equal(featureGatesText({ A: true, B: false }), 'A=true,B=false');
  assert.deepEqual(splitHostPort('[fd00::1]:10249'), { host: 'fd00::1', port: '10249' });
  assert.deepEqual(splitHostPort('127.0.0.1:10256'), { host: '127.0.0.1', port: '10256' });
});
