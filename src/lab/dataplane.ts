// The data-plane fixture: pods in network namespaces behind one IPVS virtual
// service, with traffic sent through the service address (hack/lab/dataplane.sh
// runs inside the lab VM). Tests and the smoke suite reuse it through here.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabDeps, LabMachine, LabRunResult } from './run.js';
import { shellQuote } from './guest.js';
import { runScriptInLab } from './run.js';

/** hack/lab/ of this checkout (from src/lab or dist/lab alike). */
export const HACK_LAB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'hack', 'lab');
export const DATAPLANE_SCRIPT = join(HACK_LAB_DIR, 'dataplane.sh');

export interface DataPlaneParams {
  /** Number of pods (real servers), 1..50; default 3. */
  readonly pods?: number;
  /** IPVS scheduler (its module ip_vs_<name> is loaded); default rr. */
  readonly scheduler?: string;
  readonly protocol?: 'tcp' | 'udp';
  /** Persistence timeout in seconds (ipvsadm -p); 0 or absent: none. */
  readonly persistenceSeconds?: number;
  /** Requests through the service address; default 4 per pod. */
  readonly requests?: number;
  readonly vip?: string;
  readonly port?: number;
  readonly targetPort?: number;
  /** 0..9: several fixtures in one VM need distinct instances (own bridge, subnet 10.244.<n>.0/24, pod names, VIP 10.96.0.<10+n>). */
  readonly instance?: number;
}

export interface DataPlaneReport {
  readonly protocol: 'tcp' | 'udp';
  readonly vip: string;
  readonly port: number;
  readonly scheduler: string;
  readonly persistence: number;
  readonly pods: readonly { readonly name: string; readonly ip: string }[];
  readonly requests: number;
  /** Pod name → answers received through the service address. */
  readonly responses: Readonly<Record<string, number>>;
  /** Which pod answered each request, in order. */
  readonly sequence: readonly string[];
  readonly errors: readonly string[];
  /** How long until every pod answered on its own address. */
  readonly readyMs: number;
  /** `ipvsadm -Ln` and /proc/net/ip_vs after the traffic. */
  readonly ipvsadm: string;
  readonly procIpVs: string;
}

/** The script's arguments for these parameters (pure). */
export function dataPlaneArgs(params: DataPlaneParams): string[] {
  const args: string[] = [];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };
  if (params.scheduler !== undefined && !/^[a-z]+$/.test(params.scheduler)) throw new Error(`bad IPVS scheduler name: ${params.scheduler}`);
  add('--pods', params.pods);
  add('--scheduler', params.scheduler);
  add('--protocol', params.protocol);
  add('--persistence', params.persistenceSeconds);
  add('--requests', params.requests);
  add('--vip', params.vip);
  add('--port', params.port);
  add('--target-port', params.targetPort);
  add('--instance', params.instance);
  return args;
}

/** Every report line the fixture(s) printed on stdout, in order. */
export function parseDataPlaneReports(stdout: string): DataPlaneReport[] {
  const reports = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DataPlaneReport);
  for (const report of reports) {
    if (typeof report.responses !== 'object' || !Array.isArray(report.pods)) throw new Error('the data-plane fixture printed a malformed report');
  }
  return reports;
}

/** The pods that answered at least once through the service address. */
export const podsSeen = (report: DataPlaneReport): string[] =>
  Object.entries(report.responses)
    .filter(([, count]) => count > 0)
    .map(([name]) => name)
    .sort();

/** argv running the fixture once, e.g. inside a larger guest script. */
export function dataPlaneCommand(params: DataPlaneParams): string[] {
  return ['bash', DATAPLANE_SCRIPT, ...dataPlaneArgs(params)];
}

/**
 * Boots ONE lab VM and runs the fixture once per parameter set (give each its own
 * `instance`), stopping at the first failure. Reports come back in order; the run
 * carries the exit code and the fixture's log (stderr).
 */
export async function runDataPlaneFixtures(
  paramsList: readonly DataPlaneParams[],
  machine: LabMachine,
  deps: LabDeps,
): Promise<{ reports: DataPlaneReport[]; run: LabRunResult }> {
  const script = ['set -e', ...paramsList.map((params) => dataPlaneCommand(params).map(shellQuote).join(' ')), ''].join('\n');
  const run = await runScriptInLab({ ...machine, script, cwd: HACK_LAB_DIR, env: process.env, capture: true }, deps);
  return { reports: parseDataPlaneReports(run.stdout ?? ''), run };
}
