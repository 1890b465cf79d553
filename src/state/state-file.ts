// What `up` created, recorded so that `down`, `status` and `logs` act on exactly
// that and nothing else. One JSON file per cluster under STATE_DIR, written
// atomically (temporary file + rename) so a crash never leaves half a file.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { usageError } from '../errors.js';

export const STATE_FILE_VERSION = 1;

export interface ClusterState {
  readonly version: typeof STATE_FILE_VERSION;
  readonly provider: 'kind' | 'local';
  readonly clusterName: string;
  readonly createdAt: string;
  readonly kubeconfig: string;
  readonly proxyMode: string;
  readonly kubeVersion: string;
  readonly logDir: string;
  /** Provider-specific record (kind: node names, engine; local: components, pids, folders). */
  readonly details: Readonly<Record<string, unknown>>;
}

export const clusterStateDir = (stateDir: string, clusterName: string): string => join(stateDir, clusterName);
export const stateFilePath = (stateDir: string, clusterName: string): string => join(clusterStateDir(stateDir, clusterName), 'state.json');

export async function readClusterState(stateDir: string, clusterName: string): Promise<ClusterState | null> {
  const path = stateFilePath(stateDir, clusterName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON`, `it records what up created; if the cluster is gone, delete the file`);
  }
  const state = parsed as Partial<ClusterState>;
  if (state.version !== STATE_FILE_VERSION || typeof state.clusterName !== 'string' || (state.provider !== 'kind' && state.provider !== 'local')) {
    throw usageError(`${path} is not a kube-local-up state file of version ${STATE_FILE_VERSION}`, 'if the cluster is gone, delete the file');
  }
  return state as ClusterState;
}

export async function writeClusterState(stateDir: string, state: ClusterState): Promise<string> {
  const path = stateFilePath(stateDir, state.clusterName);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return path;
}

export async function removeClusterState(stateDir: string, clusterName: string): Promise<void> {
  await rm(stateFilePath(stateDir, clusterName), { force: true });
}
