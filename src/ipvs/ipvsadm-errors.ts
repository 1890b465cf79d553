// ipvsadm's failures turned into errors a user can act on. ipvsadm's own texts
// are misleading: an ipvsadm built with libnl before 1.30 says "No space left on
// device" when it means "you are not root", and "Memory allocation problem" when
// a service does not exist (ipvsadm-formats.md §7).
import type { ExitCodeValue } from '../errors.js';
import { ExitCode, LocalUpError } from '../errors.js';
import type { RunResult } from '../exec/runner.js';
import { describeFailure, tail } from '../exec/runner.js';

export type IpvsadmFailureKind =
  | 'not-installed'
  | 'no-ipvs'
  | 'not-root'
  | 'no-such-service'
  | 'no-such-destination'
  | 'scheduler-missing'
  | 'kernel-mismatch'
  | 'bad-arguments';

export interface IpvsadmDiagnosis {
  readonly kind: IpvsadmFailureKind;
  readonly exitCode: ExitCodeValue;
  readonly message: string;
  readonly hint: string;
}

const LOAD_MODULES_HINT =
  'load the IPVS modules with `local-up modules load` (as root; on a kind node, on the host), or run it in the lab VM (`local-up lab -- ipvsadm -Ln`) when this kernel has no IPVS';
const ROOT_HINT = 'run ipvsadm as root (sudo) or with CAP_NET_ADMIN; or read /proc/net/ip_vs instead, which any user can read (`local-up ipvs parse /proc/net/ip_vs`)';
const INSTALL_HINT =
  'install it (`apt-get install ipvsadm`, `dnf install ipvsadm`, `apk add ipvsadm`), or read /proc/net/ip_vs instead (`local-up ipvs parse /proc/net/ip_vs`)';

const lineWith = (lines: readonly string[], needle: string): string | undefined => lines.find((l) => l.includes(needle));

/** Why IPVS could not be initialised, from the modprobe line that ipvsadm's module load printed. */
function describeModprobe(modprobe: string | undefined): string {
  if (modprobe === undefined) return 'the ip_vs module is not loaded';
  if (modprobe.includes('not found')) return `the kernel has no ip_vs module (${modprobe.trim()})`;
  if (modprobe.includes("can't change directory to '/lib/modules'") || modprobe.includes('/lib/modules')) {
    return `ip_vs is not loaded and cannot be loaded from here: /lib/modules is missing (a container? load the module on the host) (${modprobe.trim()})`;
  }
  if (modprobe.includes('Operation not permitted')) {
    return `ip_vs is not loaded and this environment may not load modules (a container without CAP_SYS_MODULE? load it on the host) (${modprobe.trim()})`;
  }
  return `the ip_vs module is not loaded and loading it failed (${modprobe.trim()})`;
}

/**
 * Recognises ipvsadm's error texts (its stderr, or a file holding them). Returns null when the
 * text holds none of them. Checked in order: the first match is the cause, later lines are effects.
 */
export function diagnoseIpvsadmText(text: string): IpvsadmDiagnosis | null {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const init = lines.find((l) => l.includes("Can't initialize ipvs") || l.includes('Can not initialize ipvs') || l.includes('Can not initialise ipvs'));
  if (init !== undefined || lineWith(lines, 'Are you sure that IP Virtual Server is built in') !== undefined) {
    const reason = init === undefined ? '' : init.slice(init.indexOf(':') + 1).trim();
    if (reason.startsWith('Permission denied')) {
      return { kind: 'not-root', exitCode: ExitCode.unavailable, message: 'ipvsadm needs root (CAP_NET_ADMIN) to read the IPVS table: "Permission denied (you must be root)"', hint: ROOT_HINT };
    }
    if (reason.startsWith('No space left on device')) {
      return {
        kind: 'not-root',
        exitCode: ExitCode.unavailable,
        message:
          'ipvsadm was refused access to IPVS: "No space left on device" from an ipvsadm built with libnl before 1.30 means permission denied (not root, or no CAP_NET_ADMIN in this network namespace)',
        hint: ROOT_HINT,
      };
    }
    if (reason.startsWith('Module is wrong version') || reason.startsWith('Invalid operation')) {
      return { kind: 'kernel-mismatch', exitCode: ExitCode.unavailable, message: `ipvsadm and the kernel's IPVS do not match: "${reason}"`, hint: 'use the ipvsadm of the distribution that built this kernel' };
    }
    const modprobe = lines.find((l) => l.startsWith('modprobe:'));
    const detail = reason === '' || reason.startsWith('Protocol not available') ? '' : ` ("${reason}")`;
    return { kind: 'no-ipvs', exitCode: ExitCode.unavailable, message: `IPVS is not available in this kernel: ${describeModprobe(modprobe)}${detail}`, hint: LOAD_MODULES_HINT };
  }
  if (lines.some((l) => l.includes('Permission denied (you must be root)'))) {
    return { kind: 'not-root', exitCode: ExitCode.unavailable, message: 'ipvsadm needs root (CAP_NET_ADMIN): "Permission denied (you must be root)"', hint: ROOT_HINT };
  }
  const notFound = lines.find(
    (l) => l.includes('ipvsadm') && (l.includes('command not found') || l.includes('executable file not found') || l.endsWith(': not found') || l.includes('No such file or directory')),
  );
  if (notFound !== undefined) {
    return { kind: 'not-installed', exitCode: ExitCode.unavailable, message: `ipvsadm is not installed (${notFound.trim()})`, hint: INSTALL_HINT };
  }
  if (lineWith(lines, 'Memory allocation problem') !== undefined) {
    return {
      kind: 'no-such-service',
      exitCode: ExitCode.failed,
      message: 'no such virtual service: ipvsadm said "Memory allocation problem", which an ipvsadm built with libnl before 1.30 prints for a service that does not exist',
      hint: 'list the whole table with `ipvsadm -Ln` to see which virtual services exist',
    };
  }
  if (lineWith(lines, 'No such service') !== undefined || lineWith(lines, 'Service not defined') !== undefined) {
    return { kind: 'no-such-service', exitCode: ExitCode.failed, message: 'no such virtual service in the IPVS table', hint: 'list the whole table with `ipvsadm -Ln` to see which virtual services exist' };
  }
  if (lineWith(lines, 'No such destination') !== undefined) {
    return { kind: 'no-such-destination', exitCode: ExitCode.failed, message: 'no such real server in the IPVS table', hint: 'list the whole table with `ipvsadm -Ln` to see the real servers of each service' };
  }
  if (lineWith(lines, 'Scheduler or persistence engine not found') !== undefined || lineWith(lines, 'Scheduler not found') !== undefined) {
    return {
      kind: 'scheduler-missing',
      exitCode: ExitCode.unavailable,
      message: 'the kernel lacks the IPVS scheduler or persistence engine asked for (its ip_vs_<name> module is not loaded)',
      hint: LOAD_MODULES_HINT,
    };
  }
  if (lines.some((l) => l.startsWith('Try `ipvsadm -h') || l.includes('invalid option') || l.startsWith('illegal ') || l.includes('unexpected argument'))) {
    return {
      kind: 'bad-arguments',
      exitCode: ExitCode.unavailable,
      message: 'this ipvsadm does not accept the options it was given (too old? `--tun-info` needs 1.31)',
      hint: 'check `ipvsadm -v`; kube-local-up needs only `ipvsadm -Ln` and `ipvsadm -Sn`',
    };
  }
  return null;
}

/**
 * The error to show for a failed ipvsadm run (call it when the exit code is not 0). Known texts
 * get a plain explanation and a hint; anything else keeps ipvsadm's stderr as evidence.
 */
export function explainIpvsadmFailure(result: RunResult): LocalUpError {
  const evidence = tail(`${result.stderr}${result.stderr.endsWith('\n') || result.stderr === '' ? '' : '\n'}${result.stdout}`.trim());
  const details = evidence === '' ? undefined : evidence;
  if (result.notFound || result.exitCode === 127) {
    return new LocalUpError(ExitCode.unavailable, `ipvsadm is not installed (${result.command}: command not found)`, { hint: INSTALL_HINT, ...(details === undefined ? {} : { details }) });
  }
  if (result.timedOut || result.aborted) {
    return new LocalUpError(result.aborted ? ExitCode.interrupted : ExitCode.unavailable, describeFailure(result), details === undefined ? {} : { details });
  }
  const diagnosis = diagnoseIpvsadmText(result.stderr) ?? diagnoseIpvsadmText(result.stdout);
  if (diagnosis !== null) {
    return new LocalUpError(diagnosis.exitCode, `${result.command}: ${diagnosis.message}`, { hint: diagnosis.hint, ...(details === undefined ? {} : { details }) });
  }
  const firstLine = result.stderr.trim().split('\n')[0] ?? '';
  return new LocalUpError(ExitCode.unavailable, `${describeFailure(result)}${firstLine === '' ? '' : `: ${firstLine}`}`, {
    hint: 'run the command by hand to see what it says',
    ...(details === undefined ? {} : { details }),
  });
}
