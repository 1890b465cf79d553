// Test harness for the local provider: free ports, a fake containerd socket, CNI
// plugin files, an environment that points every setting at them and at the
// stand-ins in this folder, and a ProviderContext for calling the provider
// in-process. Nothing here needs root.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSettings } from '../../../src/config/resolve.js';
import type { ResolvedSettings } from '../../../src/config/resolve.js';
import { ExecaRunner } from '../../../src/exec/execa-runner.js';
import { findExecutable } from '../../../src/exec/which.js';
import type { RunLog } from '../../../src/log/run-log.js';
import type { ProviderContext } from '../../../src/providers/provider.js';
import { clusterStateDir } from '../../../src/state/state-file.js';
import { tempDir } from '../../helpers/cli.js';
import { after } from 'node:test';
import { processesMentioning } from '../../helpers/lab.js';

export const STAND_INS = dirname(fileURLToPath(import.meta.url));
export const KUBECTL_STAND_IN = join(STAND_INS, 'kubectl');
export const ETCD = findExecutable('etcd', process.env);

/** n distinct free TCP ports (bound on 0.0.0.0 to 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '0.0.0.0', exclusive: true }, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    ports.push(address.port);
    servers.push(server);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A unix socket that accepts connections, standing in for containerd's. */
export async function fakeRuntimeSocket(path: string): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true });
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

export interface LocalWorld {
  readonly root: string;
  readonly env: Record<string, string | undefined>;
  readonly eventsDir: string;
  readonly ports: Record<string, number>;
  readonly socket: Server;
  close(): Promise<void>;
}

export const PORT_SETTINGS = [
  'ETCD_PORT',
  'ETCD_PEER_PORT',
  'API_SECURE_PORT',
  'KUBE_CONTROLLER_MANAGER_PORT',
  'KUBE_SCHEDULER_PORT',
  'KUBELET_PORT',
  'KUBELET_HEALTHZ_PORT',
  'KUBE_PROXY_HEALTHZ_PORT',
  'KUBE_PROXY_METRICS_PORT',
] as const;

/**
 * A folder with everything a stand-in cluster needs and the environment that points the
 * settings at it: state, logs, certificates and etcd data under it; stand-ins from
 * KUBE_BIN_DIR; the real etcd from PATH (accepted from 3.4 with ETCD_VERSION); free ports.
 */
export async function makeWorld(extra: Record<string, string | undefined> = {}): Promise<LocalWorld> {
  const root = tempDir('local-up-local-');
  const eventsDir = join(root, 'events');
  const cniBin = join(root, 'cni-bin');
  mkdirSync(eventsDir, { recursive: true });
  mkdirSync(cniBin, { recursive: true });
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) {
    writeFileSync(join(cniBin, plugin), '#!/bin/sh\nexit 0\n');
    chmodSync(join(cniBin, plugin), 0o755);
  }
  const socketPath = join(root, 'run', 'containerd.sock');
  const socket = await fakeRuntimeSocket(socketPath);
  const numbers = await freePorts(PORT_SETTINGS.length);
  const ports = Object.fromEntries(PORT_SETTINGS.map((name, i) => [name, numbers[i] as number]));
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    LANG: 'C.UTF-8',
    CLUSTER_PROVIDER: 'local',
    CLUSTER_NAME: 'standin',
    STATE_DIR: join(root, 'state'),
    KUBE_BIN_DIR: STAND_INS,
    KUBECTL: KUBECTL_STAND_IN,
    ETCD_VERSION: '3.4',
    KUBE_PROXY_MODE: 'iptables',
    CONTAINER_RUNTIME_ENDPOINT: `unix://${socketPath}`,
    CNI_BIN_DIR: cniBin,
    CNI_CONFIG_DIR: join(root, 'cni-net.d'),
    READY_TIMEOUT: '30',
    LOCAL_STANDIN_DIR: eventsDir,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ...extra,
  };
  return {
    root,
    env,
    eventsDir,
    ports,
    socket,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export interface StandInEvent {
  readonly event: string;
  readonly name: string;
  readonly pid: number;
  readonly time: number;
  readonly argv?: readonly string[];
  readonly signal?: string;
  readonly config?: string;
  readonly mode?: string;
  readonly objects?: readonly string[];
  /** The object a "deleted" event removed (Kind/name). */
  readonly object?: string;
}

export function readEvents(world: Pick<LocalWorld, 'eventsDir'>): StandInEvent[] {
  const file = join(world.eventsDir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as StandInEvent);
}

/** A run log that keeps its lines in memory (and in a file, for a failing test's eyes). */
export function memoryLog(path: string): RunLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    path,
    lines,
    write(line: string) {
      lines.push(line);
      appendFileSync(path, `${line}\n`);
    },
  };
}

export function resolvedFor(env: Record<string, string | undefined>): ResolvedSettings {
  return resolveSettings({ flags: {}, env, dotenv: null });
}

/** A ProviderContext for in-process calls. uid 0: the stand-ins need no root, so no sudo is added. */
export function contextFor(world: LocalWorld, signal: AbortSignal = new AbortController().signal): ProviderContext & { log: RunLog & { lines: string[] }; progressLines: string[] } {
  const resolved = resolvedFor(world.env);
  const s = resolved.values;
  const progressLines: string[] = [];
  return {
    settings: s,
    resolved,
    runner: new ExecaRunner(),
    env: world.env,
    signal,
    log: memoryLog(join(world.root, 'run.log')),
    progress: (line) => void progressLines.push(line),
    progressLines,
    clusterDir: clusterStateDir(s.stateDir, s.clusterName),
    uid: 0,
    interactive: false,
    retain: false,
  };
}

/** Whether a pid is alive (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/**
 * A world factory for one test file: every world it makes, and any process still running in
 * one, is removed after the file's tests (also when a test failed half-way).
 */
export function trackedWorlds(): (extra?: Record<string, string>) => Promise<LocalWorld> {
  const worlds: LocalWorld[] = [];
  after(async () => {
    for (const world of worlds) {
      for (const pid of processesMentioning(world.root)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await world.close();
    }
  });
  return async (extra = {}) => {
    const w = await makeWorld(extra);
    worlds.push(w);
    return w;
  };
}

