// The oracle's pure parts (src/oracle/): every case file reads, the guest's
// files say what to create and how many events kube-proxy must see, and the
// judge reads the guest's output and names a model difference and an
// alteration precisely. The oracle itself runs with `npm run test:oracle`.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MANAGED_BY_LABEL, ORACLE_MANAGED_BY, OracleCaseError, caseClusterIPs, oracleGroups, planOracleFiles, readOracleCase, vipMark } from '../src/oracle/cases.js';
import { judgeCase, judgeOracleRun, judgeThenCase, judgeThenRun, kubeProxyRelease, readGuestOutput, readInterfaceAddresses, wantedAlterationFindings } from '../src/oracle/judge.js';
import { ROOT } from './helpers/cli.js';

const CASES_DIR = join(ROOT, 'test', 'fixtures', 'oracle');

describe('oracle cases', () => {
  it('every case file reads, with unique ClusterIPs and NodePorts across the catalogue', () => {
    const files = readdirSync(CASES_DIR).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 40, `only ${files.length} cases (issue 12 asks for at least 40)`);
    const ips = new Set<string>();
    const cases = files.map((file) => readOracleCase(file.slice(0, -5), readFileSync(join(CASES_DIR, file), 'utf8')));
    assert.ok(Object.keys(planOracleFiles(cases)).length > cases.length, 'names repeat across cases');
    for (const [k, c] of cases.entries()) {
      const file = files[k];
      for (const o of c.objects) {
        if (o.kind !== 'Service') continue;
        const spec = o.body.spec as { clusterIP?: string; ports?: { nodePort?: number }[] } | undefined;
        for (const key of [spec?.clusterIP, ...(spec?.ports ?? []).map((p) => (p.nodePort === undefined ? undefined : `np${p.nodePort}`))]) {
          if (key === undefined || key === 'None') continue;
          assert.ok(!ips.has(key), `${file}: ${key} is used by another case`);
          ips.add(key);
        }
      }
    }
  });

  it('refuses the same object in two cases (every case shares one cluster)', () => {
    const one = readOracleCase('one', 'description: d\nobjects: [{kind: Service, metadata: {name: s}}]\n');
    const two = readOracleCase('two', 'description: d\nobjects: [{kind: Service, metadata: {name: s}}]\n');
    assert.throws(() => planOracleFiles([one, two]), /Service default\/s is also in case one/);
  });

  it('reads mayBeRejected and tells the guest; refuses unknown top-level fields', () => {
    const text = 'description: d\nmayBeRejected: newer API servers refuse it\nobjects: [{kind: Service, metadata: {name: s}}]\n';
    const c = readOracleCase('maybe', text);
    assert.equal(c.mayBeRejected, 'newer API servers refuse it');
    assert.match(planOracleFiles([c])['oracle-01-maybe.sh'] ?? '', /^MAY_BE_REJECTED=1$/m);
    assert.match(planOracleFiles([readOracleCase('sure', 'description: d\nobjects: [{kind: Service, metadata: {name: s}}]\n')])['oracle-01-sure.sh'] ?? '', /^MAY_BE_REJECTED=0$/m);
    assert.throws(() => readOracleCase('x', 'description: d\nmaybeRejected: typo\nobjects: [{kind: Service, metadata: {name: s}}]\n'), /unknown field maybeRejected/);
  });

  it('plans a second state: whole-object merge patches and deletes, with the events kube-proxy must count', () => {
    const text = [
      'description: d',
      'objects:',
      '  - {kind: Service, metadata: {name: s}, spec: {clusterIP: 10.96.9.9}}',
      '  - {kind: EndpointSlice, metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}, addressType: IPv4, endpoints: []}',
      'then:',
      '  description: shrink, then drop',
      '  apply: [{kind: EndpointSlice, metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}, addressType: IPv4, endpoints: []}]',
      '  delete: [{kind: Service, name: s}]',
    ].join('\n');
    const c = readOracleCase('live', text);
    assert.equal(c.then?.apply.length, 1);
    const files = planOracleFiles([c]);
    const meta = files['then-oracle-01-live.sh'] ?? '';
    assert.match(meta, /^THEN=\('PATCH \/apis\/discovery\.k8s\.io\/v1\/namespaces\/default\/endpointslices\/s-1 then-oracle-01-live\.0\.json application\/merge-patch\+json' 'DELETE \/api\/v1\/namespaces\/default\/services\/s'\)$/m);
    assert.match(meta, /^THEN_SERVICE_EVENTS=1$/m);
    assert.match(meta, /^THEN_SLICE_EVENTS=1$/m);
    assert.ok(!Object.keys(files).some((f) => /^oracle-.*then/.test(f)), 'the first-state glob oracle-[0-9]*.sh must not see second-state files');
    assert.throws(() => readOracleCase('x', text.replace('name: s}]', 'name: other}]')), /then\.delete: Service default\/other is not among the case's objects/);
    assert.throws(() => readOracleCase('x', 'description: d\nobjects: [{kind: Service, metadata: {name: s}}]\nthen: {description: nothing}\n'), /apply or delete at least one/);
  });

  it('groups cases by their nodePortAddresses: own metadata files, deleted after the run, only the groups this release takes', () => {
    const svc = (name: string, ip: string, extra = '') => `description: d\n${extra}objects:\n  - {kind: Service, metadata: {name: ${name}}, spec: {clusterIP: ${ip}, clusterIPs: [${ip}, "fd00:96::${ip.split('.')[2]}"]}}\n`;
    const cases = [
      readOracleCase('plain', svc('a', '10.96.1.10')),
      readOracleCase('cidr', svc('b', '10.96.2.10', 'nodePortAddresses: [192.168.60.0/24]\n')),
      readOracleCase('primary', svc('c', '10.96.3.10', 'nodePortAddresses: [primary]\n')),
      readOracleCase('cidr-too', svc('d', '10.96.4.10', 'nodePortAddresses: [192.168.60.0/24]\n')),
    ];
    assert.deepEqual(oracleGroups(cases).map((g) => [g.id, g.nodePortAddresses.join(','), g.caseIndexes]), [[1, '192.168.60.0/24', [1, 3]], [2, 'primary', [2]]]);
    assert.deepEqual(caseClusterIPs(cases[1]!), ['10.96.2.10', 'fd00:96::2']);
    assert.deepEqual(caseClusterIPs(cases[1]!).map(vipMark), ['10.96.2.10:', '[fd00:96::2]:']);
    const files = planOracleFiles(cases, [1]);
    assert.ok('oracle-01-plain.sh' in files);
    assert.ok('group-1-oracle-02-cidr.sh' in files && 'group-1-oracle-04-cidr-too.sh' in files);
    assert.ok(!Object.keys(files).some((f) => f.includes('oracle-03-primary') && f.endsWith('.sh')), 'a group the release does not take has no metadata file');
    assert.equal(files['groups.sh'], 'GROUP_IDS=(1)\n');
    assert.match(files['group-1-oracle-02-cidr.sh'] ?? '', /^REMOVE=\('DELETE \/api\/v1\/namespaces\/default\/services\/b'\)$/m);
    assert.match(files['group-1-oracle-02-cidr.sh'] ?? '', /^VIPS=\('10\.96\.2\.10:' '\[fd00:96::2\]:'\)$/m);
    assert.ok(!/^REMOVE=/m.test(files['oracle-01-plain.sh'] ?? ''));
    assert.throws(() => readOracleCase('x', 'description: d\nnodePortAddresses: []\nobjects: [{kind: Service, metadata: {name: s}}]\n'), /nodePortAddresses: a non-empty list/);
    assert.throws(() => readOracleCase('x', 'description: d\nnodePortAddresses: [primary]\nobjects: [{kind: Service, metadata: {name: s}}]\nthen: {description: t, delete: [{kind: Service, name: s}]}\n'), /cannot have a then state/);
  });

  it('rejects a case without objects or with an unknown kind', () => {
    assert.throws(() => readOracleCase('x', 'description: d\nobjects: []\n'), OracleCaseError);
    assert.throws(() => readOracleCase('x', 'description: d\nobjects: [{kind: Pod, metadata: {name: p}}]\n'), /kind must be Service or EndpointSlice/);
    assert.throws(() => readOracleCase('Bad_Name', 'description: d\nobjects: [{kind: Service, metadata: {name: s}}]\n'), /file name/);
  });

  it('plans the requests and the events kube-proxy must count (one per object; IPv4 and IPv6 slices that name their Service, never FQDN)', () => {
    const c = readOracleCase(
      'lb',
      [
        'description: an LB',
        'objects:',
        '  - {kind: Service, metadata: {name: lb}, spec: {type: LoadBalancer}, status: {loadBalancer: {ingress: [{ip: 203.0.113.1}]}}}',
        '  - {kind: EndpointSlice, metadata: {name: lb-4, labels: {kubernetes.io/service-name: lb}}, addressType: IPv4, endpoints: []}',
        '  - {kind: EndpointSlice, metadata: {name: lb-6, namespace: other, labels: {kubernetes.io/service-name: lb}}, addressType: IPv6, endpoints: []}',
        '  - {kind: EndpointSlice, metadata: {name: lb-x}, addressType: IPv4, endpoints: []}',
        '  - {kind: EndpointSlice, metadata: {name: lb-f, labels: {kubernetes.io/service-name: lb}}, addressType: FQDN, endpoints: []}',
      ].join('\n'),
    );
    const files = planOracleFiles([c]);
    const meta = files['oracle-01-lb.sh'] ?? '';
    assert.match(meta, /^VIPS=\(\)$/m);
    assert.match(meta, /^NAMESPACES=\('default' 'other'\)$/m);
    assert.match(meta, /^SERVICE_EVENTS=1$/m);
    // lb-4 and lb-6 (each family's proxier counts its own, pkg/proxy/endpointschangetracker.go v1.34.11); not lb-x (no Service), not lb-f (FQDN).
    assert.match(meta, /^SLICE_EVENTS=2$/m);
    assert.match(meta, /'PATCH \/api\/v1\/namespaces\/default\/services\/lb\/status oracle-01-lb\.0\.status\.json application\/merge-patch\+json'/);
    assert.match(meta, /'POST \/apis\/discovery\.k8s\.io\/v1\/namespaces\/other\/endpointslices oracle-01-lb\.2\.json'/);
    const slice = JSON.parse(files['oracle-01-lb.1.json'] ?? '{}') as { apiVersion: string; metadata: { labels: Record<string, string> } };
    assert.equal(slice.apiVersion, 'discovery.k8s.io/v1');
    assert.equal(slice.metadata.labels[MANAGED_BY_LABEL], ORACLE_MANAGED_BY);
    const service = JSON.parse(files['oracle-01-lb.0.json'] ?? '{}') as Record<string, unknown>;
    assert.equal(service.status, undefined, 'status goes through the status subresource');
  });
});

const PROC = (scheduler: string, withSecond: boolean) => `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A600001:01BB rr
TCP  0A600A0A:0050 ${scheduler}
  -> 0AF40105:1F90      Masq    1      0          0
${withSecond ? '  -> 0AF40205:1F90      Masq    1      0          0\n' : ''}`;

const list = (items: unknown[]) => JSON.stringify({ kind: 'List', items });
const service = (name: string, ip: string, port: number, portName: string) => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ports: [{ name: portName, port, protocol: 'TCP' }] },
});
const GUEST = `@@oracle version
Kubernetes v1.34.11
@@oracle hz
250
@@oracle snapshot
2.5
@@oracle services
${list([service('kubernetes', '10.96.0.1', 443, 'https'), service('web', '10.96.10.10', 80, 'http')])}
@@oracle endpointslices
${list([
  {
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'oracle-node' },
      { addresses: ['10.244.2.5'], conditions: { ready: true }, nodeName: 'other-node' },
    ],
  },
])}
@@oracle ipvs
${PROC('rr', true)}@@oracle addresses
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: oracle0    inet 192.168.50.10/24 scope global oracle0\\       valid_lft forever preferred_lft forever
3: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever
3: kube-ipvs0    inet 10.96.10.10/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever
@@oracle altered
removed oracle-01-web -t 10.96.10.10:80 -r 10.244.2.5:8080
edited oracle-01-web -A -t 10.96.10.10:80 -s rr
removed oracle-02-none
edited oracle-02-none
@@oracle ipvs-altered
${PROC('wrr', false)}@@oracle proxy-log
@@oracle end
`;

const WEB = [{ namespace: 'default', name: 'web' }];

describe('oracle judge', () => {
  it('reads the guest output and passes a table that matches, naming exactly the alteration', () => {
    const out = readGuestOutput(GUEST);
    assert.equal(out.complete, true);
    assert.equal(out.version, 'Kubernetes v1.34.11');
    assert.equal(out.syncSeconds, 2.5);
    assert.deepEqual(out.alterations.get('oracle-02-none'), { removed: null, edited: null });
    const run = judgeOracleRun(out);
    assert.deepEqual(run.problems, []);
    assert.deepEqual(run.kubeIpvs0.actual, ['10.96.0.1', '10.96.10.10']);
    const verdict = judgeCase(run, out, 'oracle-01-web', WEB);
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.virtualServers, 1);
    assert.deepEqual(verdict.alteredFound, ['missing-real-server TCP/10.96.10.10:80 10.244.2.5:8080', 'scheduler-mismatch TCP/10.96.10.10:80']);
  });

  it('reads a nodePortAddresses group\'s run under its prefix and judges it with its nodePortAddresses', () => {
    // The group's run: web as a NodePort; kube-proxy (with nodePortAddresses 192.168.60.0/24) put the
    // NodePort on 192.168.60.10 only, not on the InternalIP 192.168.50.10.
    const np = { ...service('web', '10.96.10.10', 80, 'http'), spec: { ...service('web', '10.96.10.10', 80, 'http').spec, type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] } };
    const table = `${PROC('rr', true)}TCP  C0A83C0A:7580 rr\n  -> 0AF40105:1F90      Masq    1      0          0\n  -> 0AF40205:1F90      Masq    1      0          0\n`;
    const group = GUEST.slice(GUEST.indexOf('@@oracle snapshot'), GUEST.indexOf('@@oracle end\n'))
      .replaceAll('@@oracle ', '@@oracle group-1-')
      .replace(list([service('kubernetes', '10.96.0.1', 443, 'https'), service('web', '10.96.10.10', 80, 'http')]), list([service('kubernetes', '10.96.0.1', 443, 'https'), np]))
      .replace(`${PROC('rr', true)}@@oracle group-1-addresses`, `${table}@@oracle group-1-addresses`)
      .replace('2: oracle0    inet 192.168.50.10/24', '2: oracle0    inet 192.168.60.10/24 scope global oracle0\n2: oracle0    inet6 fd00:50::10/64 scope global\n2: oracle0    inet 192.168.50.10/24');
    const out = readGuestOutput(GUEST.replace('@@oracle snapshot', `${group}@@oracle snapshot`));
    const run = out.groups.get(1);
    assert.ok(run !== undefined);
    assert.equal(out.groups.size, 1);
    assert.deepEqual(run.alterations.get('oracle-01-web'), { removed: '-t 10.96.10.10:80 -r 10.244.2.5:8080', edited: '-A -t 10.96.10.10:80 -s rr' });
    // No IPv6 CIDR in the list: the IPv6 proxier would serve every IPv6 address, but web is IPv4 only.
    assert.deepEqual(judgeOracleRun(run, ['192.168.60.0/24']).problems, []);
    const allAddresses = judgeOracleRun(run);
    assert.ok(allAddresses.check.diff.services.flatMap((r) => r.findings).some((f) => f.virtualServer === 'TCP/192.168.50.10:30080'), 'without the group\'s nodePortAddresses the model wants a NodePort on every address');
    // The main run is unchanged by the group's sections.
    assert.deepEqual(judgeOracleRun(out).problems, []);
  });

  it('names a table that differs from the model, and a missing kube-ipvs0 address', () => {
    const broken = GUEST.replace(`${PROC('rr', true)}@@oracle addresses`, `${PROC('rr', false)}@@oracle addresses`).replace(
      /^3: kube-ipvs0 {4}inet 10\.96\.10\.10.*\n/m,
      '',
    );
    const out = readGuestOutput(broken);
    const run = judgeOracleRun(out);
    assert.equal(run.problems.length, 1, run.problems.join('\n'));
    assert.match(run.problems[0] ?? '', /kube-ipvs0 holds 10\.96\.0\.1, the model expects 10\.96\.0\.1, 10\.96\.10\.10/);
    const verdict = judgeCase(run, out, 'oracle-01-web', WEB);
    assert.ok(verdict.problems.some((p) => /model differs from kube-proxy: .*10\.244\.2\.5:8080/.test(p)), verdict.problems.join('\n'));
    assert.equal(verdict.problems.length, 1, verdict.problems.join('\n'));
  });

  it('a case the API server refused is reported as such, not judged', () => {
    const out = readGuestOutput(GUEST.replace('@@oracle ipvs\n', '@@oracle rejected\noracle-01-web POST /apis/x: {"code":422}\n@@oracle ipvs\n'));
    assert.equal(out.rejected.get('oracle-01-web'), 'POST /apis/x: {"code":422}');
    const verdict = judgeCase(judgeOracleRun(out), out, 'oracle-01-web', WEB);
    assert.equal(verdict.rejected, 'POST /apis/x: {"code":422}');
    assert.deepEqual(verdict.problems, []);
    assert.equal(readGuestOutput(GUEST).rejected.size, 0);
    assert.equal(readGuestOutput(GUEST).then, null);
    assert.equal(judgeThenRun(readGuestOutput(GUEST)), null);
  });

  it('judges the second state like the first, and blames a case for a virtual server kube-proxy kept for it', () => {
    const section = (name: string): string => (GUEST.split(`@@oracle ${name}\n`)[1] ?? '').split(/^@@oracle /m)[0] ?? '';
    // The second state: web's Service is gone, but kube-proxy still has its virtual server.
    const then = ['services', 'endpointslices', 'ipvs', 'addresses']
      .map((name) => `@@oracle then-${name}\n${name === 'services' ? section(name).replace(/,\{[^\n]*"name":"web"[\s\S]*\]\}$/m, ']}') : section(name)}`)
      .join('');
    const out = readGuestOutput(GUEST.replace('@@oracle proxy-log', `${then}@@oracle proxy-log`));
    assert.ok(out.then !== null);
    const run = judgeThenRun(out);
    assert.ok(run !== null);
    const verdict = judgeThenCase(run, WEB, ['10.96.10.10:']);
    assert.equal(verdict.virtualServers, 0);
    assert.ok(verdict.problems.length > 0 && verdict.problems.every((p) => /^after the change: kube-proxy programmed what the model does not expect: .*10\.96\.10\.10:80/.test(p)), verdict.problems.join('\n'));
    assert.deepEqual(judgeThenCase(run, [{ namespace: 'default', name: 'kubernetes' }], ['10.96.0.1:']).problems, []);
  });

  it('models the release kube-proxy --version printed', () => {
    assert.deepEqual(kubeProxyRelease('Kubernetes v1.29.15'), { major: 1, minor: 29, patch: 15 });
    assert.equal(kubeProxyRelease('garbage'), null);
  });

  it('reads interface addresses and the alteration words', () => {
    assert.deepEqual([...readInterfaceAddresses('2: eth0    inet 10.0.0.2/24 brd x\n2: eth0    inet6 FD00:50:0::10/64 scope global\n3: kube-ipvs0    inet6 fe80::1/64\n').entries()], [
      ['eth0', ['10.0.0.2', 'fd00:50::10']],
      ['kube-ipvs0', ['fe80::1']],
    ]);
    assert.deepEqual(wantedAlterationFindings({ removed: '-t [fd00:96::1:60]:80 -r [fd00:244:1::60]:8080', edited: '-A -t [fd00:96::1:60]:80 -s rr' }), [
      'missing-real-server TCP/[fd00:96::1:60]:80 [fd00:244:1::60]:8080',
      'scheduler-mismatch TCP/[fd00:96::1:60]:80',
    ]);
    assert.deepEqual(wantedAlterationFindings({ removed: '-u 10.96.2.10:53 -r 10.244.1.6:5353', edited: '-A -u 10.96.2.10:53 -s rr -p 600' }), [
      'missing-real-server UDP/10.96.2.10:53 10.244.1.6:5353',
      'scheduler-mismatch UDP/10.96.2.10:53',
    ]);
  });
});
