// Reaching a node of a cluster kube-local-up did not create: a short-lived pod
// on that node's host network, reached with `kubectl exec`, deleted afterwards
// (also after a failure or Ctrl-C).
//
// Why not `kubectl debug node/NAME`: its pod gets a generated name that kubectl
// only prints, so a run interrupted between creating and reading it would leak
// the pod; and whether it joins the host network depends on kubectl's version
// and --profile. A pod we name ourselves is created, used and deleted by name.
// It only reads /proc/net/ip_vs (per network namespace: hostNetwork makes it the
// node's), `ip -o addr` and /boot (mounted read-only, for CONFIG_HZ); it needs no
// privilege. It sleeps for a bounded time, so even a killed run leaves nothing
// running for long.
import { randomBytes } from 'node:crypto';
import type { Host } from '../exec/host.js';
import { CommandHost } from '../exec/host.js';
import { LocalUpError, ExitCode } from '../errors.js';
import { describeFailure, tail } from '../exec/runner.js';
import type { Kubectl } from './kubectl.js';
import { NO_CLIENT_VALIDATION } from './kubectl.js';
import { NODE_POD_NAMESPACE } from './node-pod-defaults.js';

/** How long the helper pod lives at most, even if nobody deletes it. */
const NODE_POD_LIFETIME_SECONDS = 600;
const NODE_POD_READY_SECONDS = 120;
export const NODE_POD_LABEL = 'app.kubernetes.io/managed-by';
export const NODE_POD_LABEL_VALUE = 'kube-local-up';

/** A DNS-1123 pod name for a node: "local-up-ipvs-<node>-<random>" within 63 characters. */
export function nodePodName(nodeName: string, suffix: string = randomBytes(3).toString('hex')): string {
  const cleaned = nodeName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const head = `local-up-ipvs-${cleaned}`.slice(0, 63 - suffix.length - 1).replace(/-+$/, '');
  return `${head}-${suffix}`;
}

/** The helper pod: host network, pinned to the node, tolerating every taint, no privilege. */
export function nodePodManifest(name: string, nodeName: string, image: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NODE_POD_NAMESPACE, labels: { [NODE_POD_LABEL]: NODE_POD_LABEL_VALUE, 'app.kubernetes.io/name': 'local-up-ipvs-reader' } },
    spec: {
      nodeName,
      hostNetwork: true,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: NODE_POD_LIFETIME_SECONDS,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'reader',
          image,
          command: ['sleep', String(NODE_POD_LIFETIME_SECONDS)],
          volumeMounts: [{ name: 'boot', mountPath: '/boot', readOnly: true }],
        },
      ],
      volumes: [{ name: 'boot', hostPath: { path: '/boot', type: 'DirectoryOrCreate' } }],
    },
  };
}

/**
 * Runs `work` with a Host inside a helper pod on `nodeName`, then deletes the pod whatever happened.
 * The deletion does not use the caller's abort signal: it must run after Ctrl-C too.
 */
export async function withNodePod<T>(kubectl: Kubectl, nodeName: string, image: string, work: (host: Host) => Promise<T>): Promise<T> {
  const name = nodePodName(nodeName);
  const manifest = JSON.stringify(nodePodManifest(name, nodeName, image));
  try {
    const created = await kubectl.run(['create', NO_CLIENT_VALIDATION, '-f', '-'], { input: manifest });
    if (created.exitCode !== 0) throw kubectl.failure(created, `creating the helper pod ${NODE_POD_NAMESPACE}/${name} on node ${nodeName}`, kubectl.options.timeoutMs);
    const waitArgs = ['-n', NODE_POD_NAMESPACE, 'wait', '--for=condition=Ready', `pod/${name}`, `--timeout=${NODE_POD_READY_SECONDS}s`];
    const ready = await kubectl.run(waitArgs, { timeoutMs: kubectl.deadline(NODE_POD_READY_SECONDS * 1000) });
    if (ready.exitCode !== 0) {
      throw new LocalUpError(ExitCode.unavailable, `the helper pod ${NODE_POD_NAMESPACE}/${name} did not start on node ${nodeName}: ${describeFailure(ready)}`, {
        details: tail(ready.stderr || ready.stdout, 10),
        hint: `it needs the image ${image} (--pod-image) and permission to run host-network pods in ${NODE_POD_NAMESPACE}`,
      });
    }
    const { path, kubeconfig } = kubectl.options;
    const host = new CommandHost(`node ${nodeName} (helper pod ${name})`, kubectl.options.runner, [path, '--kubeconfig', kubeconfig, '-n', NODE_POD_NAMESPACE, 'exec', name, '--']);
    return await work(host);
  } finally {
    await kubectl.run(['-n', NODE_POD_NAMESPACE, 'delete', 'pod', name, '--ignore-not-found', '--wait=false'], { signal: new AbortController().signal });
  }
}
