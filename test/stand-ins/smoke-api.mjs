// The part of the stand-in world that `local-up smoke` needs (a test double):
// namespaces with a Deployment, pods, Services and EndpointSlices, a
// kube-proxy-like rendering of every node's /proc/net/ip_vs and kube-ipvs0
// addresses from them, and the client pod's netexec /dial, resolv.conf and dig.
//
// Faults the tests inject through world.smoke:
//   silentBackend: N       the N-th backend (0-based, by name) never answers
//   dropRealServer: {node, backend: N}   that node's table lacks the N-th backend
//   removedAfterScale: 'gone' | 'weight0' | 'stuck'   what IPVS shows for backends removed by scaling
//   rollout: 'ok' | 'fail' | 'hang'
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HZ_DEFAULT = 250;
const KUBE_DNS_IP = '10.96.0.10';

const hex4 = (address) => address.split('.').map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).join('');
const hexPort = (port) => port.toString(16).padStart(4, '0').toUpperCase();

export const smokeNamespaces = (cluster) => cluster.namespaces ?? {};

/** Creates a namespace from a Namespace manifest; false when it exists. */
export function createNamespace(cluster, manifest) {
  cluster.namespaces = cluster.namespaces ?? {};
  const name = manifest.metadata.name;
  if (cluster.namespaces[name] !== undefined) return false;
  cluster.namespaces[name] = { labels: manifest.metadata.labels ?? {}, pods: {}, services: {}, deployments: {}, rr: {}, nextPod: 0 };
  return true;
}

const POD_SUFFIXES = ['x2k4p', 'm7q9z', 't5w8r', 'b3n6v', 'h4j8c', 'q9d2f'];
const podName = (deployment, n) => `${deployment}-6d4cf56db6-${POD_SUFFIXES[n % POD_SUFFIXES.length]}`;

function addPod(cluster, ns, name, labels) {
  const namespace = cluster.namespaces[ns];
  const index = namespace.nextPod++;
  const nodeIndex = index % cluster.nodes.length;
  namespace.pods[name] = { labels, node: cluster.nodes[nodeIndex].name, ip: `10.244.${nodeIndex + 1}.${10 + index}`, ready: true };
}

/** kubectl apply of a List: Deployments (their pods appear at once), Pods and Services. */
export function applyItems(cluster, ns, items) {
  const namespace = cluster.namespaces[ns];
  const out = [];
  for (const item of items) {
    const name = item.metadata.name;
    if (item.kind === 'Deployment') {
      namespace.deployments[name] = { replicas: item.spec.replicas, labels: item.spec.template.metadata.labels };
      for (let i = 0; i < item.spec.replicas; i++) addPod(cluster, ns, podName(name, i), item.spec.template.metadata.labels);
      out.push(`deployment.apps/${name} created`);
    } else if (item.kind === 'Pod') {
      addPod(cluster, ns, name, item.metadata.labels ?? {});
      out.push(`pod/${name} created`);
    } else if (item.kind === 'Service') {
      const n = Object.keys(namespace.services).length;
      const headless = item.spec.clusterIP === 'None';
      const ports = item.spec.ports.map((p, i) => ({ ...p, ...(item.spec.type === 'NodePort' ? { nodePort: 31000 + n * 10 + i } : {}) }));
      namespace.services[name] = { ...item.spec, ports, clusterIP: headless ? 'None' : `10.96.200.${10 + n}` };
      out.push(`service/${name} created`);
    }
  }
  // Faults name backends by their index in this first, full list.
  namespace.originalBackends = namespace.originalBackends ?? backends(namespace).map((p) => p.name);
  return out;
}

/** The Deployment's pods in name order; those beyond `replicas` are gone after a scale-down. */
export function backends(namespace) {
  return Object.entries(namespace.pods)
    .filter(([, pod]) => pod.labels['app.kubernetes.io/name'] === 'smoke-backend')
    .map(([name, pod]) => ({ name, ...pod }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function scaleDeployment(cluster, ns, name, replicas) {
  const namespace = cluster.namespaces[ns];
  namespace.deployments[name].replicas = replicas;
  for (const pod of backends(namespace).slice(replicas)) {
    namespace.removed = [...(namespace.removed ?? []), { name: pod.name, ip: pod.ip }];
    delete namespace.pods[pod.name];
  }
}

const matches = (labels, selector) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

function serviceJson(ns, name, svc) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name },
    spec: {
      type: svc.type,
      clusterIP: svc.clusterIP,
      clusterIPs: [svc.clusterIP],
      ipFamilies: ['IPv4'],
      selector: svc.selector,
      ports: svc.ports,
      sessionAffinity: svc.sessionAffinity ?? 'None',
      ...(svc.sessionAffinityConfig === undefined ? {} : { sessionAffinityConfig: svc.sessionAffinityConfig }),
      ...(svc.type === 'NodePort' ? { externalTrafficPolicy: 'Cluster' } : {}),
      internalTrafficPolicy: 'Cluster',
    },
  };
}

function sliceJson(ns, name, svc, namespace) {
  const ready = Object.values(namespace.pods).filter((pod) => matches(pod.labels, svc.selector) && pod.ready);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${name}-x7k2p`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: svc.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
    endpoints: ready.map((pod) => ({ addresses: [pod.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: pod.node })),
  };
}

/** Services (and EndpointSlices) of one namespace, or of every smoke namespace. */
export function listItems(cluster, ns, withSlices) {
  const items = [];
  for (const [name, namespace] of Object.entries(smokeNamespaces(cluster))) {
    if (ns !== undefined && ns !== name) continue;
    for (const [svcName, svc] of Object.entries(namespace.services)) {
      items.push(serviceJson(name, svcName, svc));
      if (withSlices) items.push(sliceJson(name, svcName, svc, namespace));
    }
  }
  return items;
}

export function podsJson(cluster, ns, selector) {
  const namespace = cluster.namespaces[ns];
  const [key, value] = (selector ?? '=').split('=');
  const items = Object.entries(namespace.pods)
    .filter(([, pod]) => selector === undefined || pod.labels[key] === value)
    .map(([name, pod]) => ({
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: pod.labels },
      spec: { nodeName: pod.node },
      status: { phase: 'Running', podIP: pod.ip, conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False' }] },
    }));
  return { apiVersion: 'v1', kind: 'List', items };
}

// ---- kube-proxy: what each node's IPVS table and kube-ipvs0 show ----------------

function realServers(node, namespace, svc, port, faults) {
  const lines = [];
  backends(namespace).forEach((pod, index) => {
    const drop = faults.dropRealServer;
    if (drop !== undefined && drop.node === node.name && drop.backend === index) return;
    lines.push(`  -> ${hex4(pod.ip)}:${hexPort(port.targetPort)}      Masq    1      0          0         `);
  });
  const removed = faults.removedAfterScale ?? 'gone';
  for (const pod of namespace.removed ?? []) {
    if (removed === 'stuck') lines.push(`  -> ${hex4(pod.ip)}:${hexPort(port.targetPort)}      Masq    1      0          0         `);
    // Graceful termination keeps TCP destinations with connections at weight 0; UDP ones go at once.
    else if (removed === 'weight0' && port.protocol === 'TCP') lines.push(`  -> ${hex4(pod.ip)}:${hexPort(port.targetPort)}      Masq    0      0          1         `);
  }
  return lines;
}

function smokeIpvsLines(cluster, node, faults) {
  const hz = Number(/CONFIG_HZ=(\d+)/.exec(node.files?.['/proc/config.gz'] ?? '')?.[1] ?? HZ_DEFAULT);
  const lines = [];
  for (const namespace of Object.values(smokeNamespaces(cluster))) {
    for (const svc of Object.values(namespace.services)) {
      if (svc.clusterIP === 'None') continue;
      const persistent = svc.sessionAffinity === 'ClientIP' ? ` persistent ${svc.sessionAffinityConfig.clientIP.timeoutSeconds * hz} FFFFFFFF` : '';
      for (const port of svc.ports) {
        const addresses = [[svc.clusterIP, port.port], ...(port.nodePort === undefined ? [] : [[node.ip, port.nodePort]])];
        for (const [address, number] of addresses) {
          lines.push(`${port.protocol}  ${hex4(address)}:${hexPort(number)} rr${persistent} `, ...realServers(node, namespace, svc, port, faults));
        }
      }
    }
  }
  return lines;
}

/** Re-renders every node's /proc/net/ip_vs and `ip -o addr` from its recorded base plus the smoke Services. */
export function renderNodes(cluster, world) {
  const faults = world.smoke ?? {};
  for (const node of cluster.nodes) {
    node.base = node.base ?? { ipvs: node.files?.['/proc/net/ip_vs'] ?? null, ipAddr: node.ipAddr };
    if (node.base.ipvs !== null) {
      const extra = smokeIpvsLines(cluster, node, faults);
      node.files['/proc/net/ip_vs'] = `${node.base.ipvs.trimEnd()}\n${extra.length === 0 ? '' : `${extra.join('\n')}\n`}`;
      const bound = Object.values(smokeNamespaces(cluster)).flatMap((ns) => Object.values(ns.services)).filter((svc) => svc.clusterIP !== 'None').map((svc) => svc.clusterIP);
      node.ipAddr = `${node.base.ipAddr.trimEnd()}\n${bound.map((a) => `3: kube-ipvs0    inet ${a}/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever\n`).join('')}`;
    }
  }
}

// ---- the client pod -----------------------------------------------------------------

function findService(cluster, ns, host, port, protocol) {
  const wantProtocol = protocol === 'udp' ? 'UDP' : 'TCP';
  for (const [nsName, namespace] of Object.entries(smokeNamespaces(cluster))) {
    for (const [name, svc] of Object.entries(namespace.services)) {
      const names = [`${name}.${nsName}.svc.cluster.local`, `${name}.${nsName}.svc`, `${name}.${nsName}`, ...(nsName === ns ? [name] : [])];
      for (const p of svc.ports) {
        if (p.protocol !== wantProtocol) continue;
        if ((host === svc.clusterIP || names.includes(host)) && port === p.port) return { namespace, name, svc, port: p };
        if (p.nodePort === port && cluster.nodes.some((n) => n.ip === host)) return { namespace, name, svc, port: p };
      }
    }
  }
  return null;
}

function resolveName(cluster, ns, name) {
  for (const [nsName, namespace] of Object.entries(smokeNamespaces(cluster))) {
    for (const [svcName, svc] of Object.entries(namespace.services)) {
      const names = [`${svcName}.${nsName}.svc.cluster.local`, `${svcName}.${nsName}.svc`, `${svcName}.${nsName}`, ...(nsName === ns ? [svcName] : [])];
      if (!names.includes(name)) continue;
      return svc.clusterIP === 'None' ? backends(namespace).map((p) => p.ip) : [svc.clusterIP];
    }
  }
  return [];
}

/** netexec's /dial on the client pod: rr over the ready backends, one backend under ClientIP affinity. */
function dial(cluster, ns, url, world) {
  const params = new URL(url).searchParams;
  const host = params.get('host');
  const port = Number(params.get('port'));
  const protocol = params.get('protocol') ?? 'http';
  const tries = Number(params.get('tries') ?? '1');
  const isName = !/^[\d.]+$/.test(host);
  if (isName && resolveName(cluster, ns, host).length === 0) {
    return { code: 0, stdout: `host and/or port param are invalid. lookup ${host} on ${KUBE_DNS_IP}:53: no such host\n`, stderr: '' };
  }
  const target = findService(cluster, ns, host, port, protocol);
  const responses = [];
  const errors = [];
  let last = '';
  for (let i = 0; i < tries; i++) {
    const pods = target === null ? [] : backends(target.namespace);
    let pod;
    if (pods.length > 0) {
      if (target.svc.sessionAffinity === 'ClientIP') pod = pods[0];
      else {
        const key = `${target.name}/${protocol}`;
        const n = target.namespace.rr[key] ?? 0;
        target.namespace.rr[key] = n + 1;
        pod = pods[n % pods.length];
      }
    }
    const silent = world.smoke?.silentBackend;
    const silentName = silent === undefined || target === null ? undefined : (target.namespace.originalBackends ?? [])[silent];
    if (pod === undefined || pod.name === silentName) {
      last = '';
      errors.push(
        protocol === 'udp'
          ? `reading from udp connection failed. err:'read udp 10.244.0.9:41234->${host}:${port}: i/o timeout'`
          : pod === undefined
            ? `Get "http://${host}:${port}/hostname": dial tcp ${host}:${port}: connect: connection refused`
            : `Get "http://${host}:${port}/hostname": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      );
    } else {
      last = pod.name;
      responses.push(pod.name);
    }
  }
  const output = {};
  if (last !== '') output.responses = responses;
  if (errors.length > 0) output.errors = errors;
  return { code: 0, stdout: JSON.stringify(output), stderr: '' };
}

/** A command run in a smoke pod (kubectl exec NS POD -- ...). */
export function execInSmokePod(cluster, ns, podName, argv, world) {
  const namespace = cluster.namespaces[ns];
  if (namespace.pods[podName] === undefined) return { code: 1, stdout: '', stderr: `Error from server (NotFound): pods "${podName}" not found\n` };
  const [file, ...args] = argv;
  switch (file) {
    case 'curl':
      return dial(cluster, ns, args.at(-1), world);
    case 'cat':
      if (args.at(-1) === '/etc/resolv.conf') return { code: 0, stdout: `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${KUBE_DNS_IP}\noptions ndots:5\n`, stderr: '' };
      return { code: 1, stdout: '', stderr: `cat: can't open '${args.at(-1)}': No such file or directory\ncommand terminated with exit code 1\n` };
    case 'dig': {
      const addresses = resolveName(cluster, ns, args.at(-1));
      return { code: 0, stdout: addresses.map((a) => `${a}\n`).join(''), stderr: '' };
    }
    default:
      return { code: 1, stdout: '', stderr: `error: Internal error occurred: exec: "${file}": executable file not found in $PATH\n` };
  }
}

/** `kubectl rollout status` of the backends, with the rollout fault. */
export function rolloutStatus(world, name) {
  const behaviour = world.smoke?.rollout ?? 'ok';
  if (behaviour === 'hang') {
    writeFileSync(join(process.env.STANDIN_STATE, 'kubectl-rollout-hanging'), String(process.pid));
    return 'hang';
  }
  if (behaviour === 'fail') return { code: 1, stdout: 'Waiting for deployment "backend" rollout to finish: 0 of 3 updated replicas are available...\n', stderr: 'error: timed out waiting for the condition\n' };
  return { code: 0, stdout: `deployment "${name}" successfully rolled out\n`, stderr: '' };
}
