// kind's command line as data: argument lists and readers of its output.
// Facts from kind v0.33.0 (pkg/cmd/kind/...): `get clusters` prints one name a
// line on stdout and "No kind clusters found." on stderr when there are none;
// `create cluster` refuses an existing name ("node(s) already exist for a
// cluster with the name ..."), deletes what it made on failure unless --retain,
// and exits 0 even when --wait times out; `delete cluster` of a missing cluster
// succeeds; `export logs DIR` prints DIR.

export const NO_CLUSTERS_LINE = 'No kind clusters found.';

/** Cluster names from `kind get clusters` stdout (tolerates the "none" line on stdout too). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== NO_CLUSTERS_LINE);
}

/** Node container names from `kind get nodes --name N`; the HA load balancer is not a Kubernetes node. */
export function parseKindNodes(stdout: string): string[] {
  return parseKindClusters(stdout).filter((name) => !name.endsWith('-external-load-balancer') && !name.startsWith('No kind nodes found'));
}

export interface CreateArgs {
  readonly name: string;
  readonly config: string;
  readonly kubeconfig: string;
  readonly retain: boolean;
}

/** No --wait: kind returns 0 when it times out, so readiness is checked afterwards by kube-local-up. */
export function createClusterArgs(options: CreateArgs): string[] {
  return ['create', 'cluster', '--name', options.name, '--config', options.config, '--kubeconfig', options.kubeconfig, ...(options.retain ? ['--retain'] : [])];
}

/** Without a kubeconfig, kind removes the cluster's entries from $KUBECONFIG or ~/.kube/config, where kind itself wrote them. */
export const deleteClusterArgs = (name: string, kubeconfig: string | null): string[] => ['delete', 'cluster', '--name', name, ...(kubeconfig === null ? [] : ['--kubeconfig', kubeconfig])];
/** Writes the cluster's context into `kubeconfig` (kind v0.33.0 pkg/cmd/kind/export/kubeconfig). */
export const exportKubeconfigArgs = (name: string, kubeconfig: string): string[] => ['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfig];
export const getClustersArgs = (): string[] => ['get', 'clusters'];
export const getNodesArgs = (name: string): string[] => ['get', 'nodes', '--name', name];
export const exportLogsArgs = (dir: string, name: string): string[] => ['export', 'logs', dir, '--name', name];
