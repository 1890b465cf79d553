// The one interface every cluster provider implements (kind now, `local` next).
// Commands (`up`, `down`, `status`, `logs`, `assert`) and the orchestrator in
// src/steps/ only talk to this interface; they never branch on the provider.
//
// What the orchestrator does itself, for every provider (so a provider does NOT):
//   - doctor's mode and kernel checks, and loading the IPVS modules, on the kernel kube-proxy will
//     run on (this machine's, or where the provider's kernelSite() says: kind's engine VM);
//   - the state file (written before create, updated after, removed by down);
//   - the run log file, progress display and Ctrl-C handling;
//   - reading /proxyMode (port 10249) and the IPVS table on each node through
//     the node's Host, and the IPVS assertions;
//   - cleaning up after a failed or interrupted `up`, by calling destroy().
// A provider does only what differs: its tools, creating/deleting the cluster,
// waiting for kube-proxy, and reaching each node.
import type { Check } from '../doctor/check.js';
import { unavailableError } from '../errors.js';
import type { ResolvedSettings } from '../config/resolve.js';
import type { ProviderName, Settings } from '../config/settings.js';
import type { Host } from '../exec/host.js';
import type { Runner } from '../exec/runner.js';
import type { RunLog } from '../log/run-log.js';
import type { Platform } from '../io/io.js';
import type { KernelSite } from '../kernel/site.js';
import type { ClusterState } from '../state/state-file.js';

/** Everything a provider may touch. Built by the orchestrator, one per step. */
export interface ProviderContext {
  readonly settings: Settings;
  /** Where each setting came from (some defaults are left to the provider when not chosen). */
  readonly resolved: ResolvedSettings;
  readonly runner: Runner;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: pass it to every long command. Cleanup (destroy) gets a fresh, unaborted one. */
  readonly signal: AbortSignal;
  /** The run's log file: every child output line goes here (providers add their own lines). */
  readonly log: RunLog;
  /** One short line for the user, shown under the current step. */
  readonly progress: (line: string) => void;
  /** STATE_DIR/CLUSTER_NAME: where the provider keeps generated files (configs, pid files). */
  readonly clusterDir: string;
  /** The effective user id (process.getuid). */
  readonly uid: number;
  /** stdin is a terminal (sudo may ask for a password). */
  readonly interactive: boolean;
  /** --retain: keep whatever a failed create made (kind: `--retain`), for debugging. */
  readonly retain: boolean;
  /** This machine's OS and kernel release; absent: the process's own (process.platform, os.release()). */
  readonly platform?: Platform;
}

/** A cluster node and the way to run commands in its network namespace and read its files. */
export interface ClusterNode {
  /** The Kubernetes node name (kube-proxy's hostnameOverride). */
  readonly name: string;
  /** kind: `docker exec NODE ...`; local: this machine. */
  readonly host: Host;
  /** Where kube-proxy answers /proxyMode on this node when not on its default port (10249). */
  readonly proxyModePort?: number;
  /**
   * The loopback address kube-proxy's metrics server listens on, when not 127.0.0.1: "[::1]" where
   * kube-proxy binds to "::" (an IPv6 node: its default metricsBindAddress follows bindAddress's family).
   */
  readonly proxyModeAddress?: string;
  /**
   * HZ of the node's kernel and where it was read, for nodes that cannot read a kernel config themselves
   * (kind mounts only /lib/modules into nodes: /boot/config-* is never there, /proc/config.gz only on some kernels).
   */
  readonly hzFallback?: { readonly hz: number; readonly source: string } | null;
}

/** What create() made, recorded in the state file's `details` so down/status/logs find it again. */
export type ProviderDetails = Readonly<Record<string, unknown>>;

/** kube-proxy's configured mode, as the provider configured it (kind: the kube-proxy ConfigMap). */
export interface ConfiguredMode {
  /** "ipvs", "iptables", "nftables", or "" when kube-proxy's default applies. */
  readonly mode: string;
  /** Where it was read, for messages: "ConfigMap kube-system/kube-proxy (config.conf)". */
  readonly source: string;
}

/**
 * What preflight() found for one `up` run (kind: the tools; local: the binaries and the plan),
 * handed explicitly to create() and the run's later steps. Opaque to the orchestrator, which only
 * carries it; each provider gives it its own type.
 */
export type ProviderSession = object;

export interface Preflight<S extends ProviderSession = ProviderSession> {
  /** The provider's checks; any 'fail' stops `up` before anything is created. */
  readonly checks: readonly Check[];
  readonly session: S;
}

export interface Provider<S extends ProviderSession = ProviderSession> {
  readonly name: ProviderName;

  /**
   * Where the kernel that will run kube-proxy is, when it may not be this machine's (kind: the container
   * engine's, which may live in a VM). doctor judges IPVS there and `up` loads the modules there.
   * Without this method, or when it returns null, it is this machine's kernel.
   */
  kernelSite?(ctx: ProviderContext): Promise<KernelSite | null>;

  /** What `doctor` shows for this provider: read-only checks (nothing installed, created or written). */
  checks(ctx: ProviderContext): Promise<readonly Check[]>;

  /**
   * The provider's doctor checks (tools, container engine), ids starting with "provider.".
   * May make missing tools available when settings allow (kind: KIND_AUTO_INSTALL) and say so
   * through ctx.progress. Any 'fail' stops `up` with exit 3 before anything is created.
   * The session it returns goes to create(), waitReady() and destroy() of the same run.
   */
  preflight(ctx: ProviderContext): Promise<Preflight<S>>;

  /** For `up --dry-run`: the exact commands and files create() would use, touching nothing. */
  describeCreate(ctx: Omit<ProviderContext, 'runner' | 'signal' | 'log'>): readonly string[];

  /** Whether a cluster named ctx.settings.clusterName exists right now (not from the state file). */
  exists(ctx: ProviderContext): Promise<boolean>;

  /**
   * Creates the cluster and writes its kubeconfig to ctx.settings.kubeconfigOut. Streams tool
   * output to ctx.log. On failure it throws (LocalUpError); the orchestrator then calls destroy()
   * unless --retain. `record` persists partial details as soon as something exists (pids, names),
   * so that destroy() can find it even after a crash.
   */
  create(ctx: ProviderContext, session: S, record: (details: ProviderDetails) => Promise<void>): Promise<ProviderDetails>;

  /**
   * Waits until kube-proxy runs on every node and cluster DNS is available, within
   * ctx.settings.readyTimeout seconds. On timeout: a LocalUpError naming kube-proxy with its log tail.
   */
  waitReady(ctx: ProviderContext, state: ClusterState, session: S): Promise<void>;

  /** kube-proxy's mode as configured by this provider (compared with /proxyMode on each node). */
  configuredMode(ctx: ProviderContext, state: ClusterState): Promise<ConfiguredMode>;

  /** Every node, with a Host reaching its network namespace (for /proc/net/ip_vs, `ip addr`, /proxyMode). */
  nodes(ctx: ProviderContext, state: ClusterState): Promise<readonly ClusterNode[]>;

  /**
   * Deletes what the state names (or, with state null, the cluster named ctx.settings.clusterName).
   * Idempotent: 'absent' when nothing was there. Never touches anything it did not create.
   * `session`: this run's, when a failed `up` cleans up after itself (none for `down`).
   */
  destroy(ctx: ProviderContext, state: ClusterState | null, session?: S): Promise<'deleted' | 'absent'>;

  /**
   * Writes the provider's logs into `dir` (kind: `kind export logs`; per node: the kube-proxy log and
   * its ipsets) and returns the paths written. The orchestrator adds each node's IPVS table and
   * kube-ipvs0 addresses itself.
   */
  collectLogs(ctx: ProviderContext, state: ClusterState, dir: string): Promise<readonly string[]>;

  /**
   * Only for providers whose cluster lives in this process's foreground (local: host processes, like
   * local-up-cluster.sh): after a successful `up` without --detach, keeps watching the cluster until
   * `signal` aborts (Ctrl-C; the cluster is stopped, then 'interrupted') or a component dies (the
   * cluster is stopped and the error names the component, with its log tail).
   */
  /**
   * `up --reuse` of a cluster kube-local-up did not create: make it reachable the way create() would
   * have (kind: export its kubeconfig to KUBECONFIG_OUT). Returns what the state file records of it.
   */
  adopt?(ctx: ProviderContext): Promise<ProviderDetails>;

  /**
   * After a failed create kept with --retain, when no kubeconfig was written: how to reach what was
   * kept (kind: it writes the kubeconfig only after every create step succeeded).
   */
  retainedHint?(ctx: Omit<ProviderContext, 'runner' | 'signal' | 'log'>): string;

  supervise?(ctx: ProviderContext, state: ClusterState, signal: AbortSignal, session?: S): Promise<'interrupted'>;

  /**
   * compare-modes: switches the running kube-proxy to mode `to` (its configuration, a restart, the old
   * mode's cleanup). `record` persists the state as it changes; returns the new state and what was done.
   * Absent: this provider cannot switch kube-proxy (compare-modes refuses its clusters).
   */
  switchProxyMode?(ctx: ProviderContext, state: ClusterState, to: string, record: (state: ClusterState) => Promise<void>): Promise<{ readonly state: ClusterState; readonly lines: readonly string[] }>;

  /** For compare-modes --dry-run: what switchProxyMode would do, touching nothing. */
  describeSwitchProxyMode?(state: ClusterState, to: string): readonly string[];
}

/** The module each provider lives in, and the name of its exported Provider. */
const PROVIDER_MODULES: Readonly<Record<ProviderName, { readonly path: string; readonly exportName: string }>> = {
  kind: { path: './kind/kind-provider.js', exportName: 'kindProvider' },
  // NOTE: src/providers/local/local-provider.ts exports `localProvider: Provider` (built separately).
  local: { path: './local/local-provider.js', exportName: 'localProvider' },
};

/** Loads a provider by name, lazily (kind's modules are not loaded for local and the other way round). */
export async function loadProvider(name: ProviderName): Promise<Provider> {
  const { path, exportName } = PROVIDER_MODULES[name];
  let module: Record<string, unknown>;
  try {
    // A computed specifier: a provider missing from this build is a clear error, not a type error.
    module = (await import(path)) as Record<string, unknown>;
  } catch (error) {
    // Only the provider's own module missing means "not in this build"; a broken import inside it is a bug.
    const missingSelf = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(path.slice(2).replace(/\.js$/, ''));
    if (!missingSelf) throw error;
    throw unavailableError(`provider ${name} is not available in this version of kube-local-up`, {
      hint: `use another CLUSTER_PROVIDER (${Object.keys(PROVIDER_MODULES).join(', ')})`,
    });
  }
  const provider = module[exportName] as Provider | undefined;
  if (provider === undefined || provider.name !== name) throw new Error(`${path} does not export ${exportName} for provider ${name}`);
  return provider;
}
