// The shape of one doctor finding, shared by doctor, `up` preflight and the
// provider checks.

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable identifier; kernel checks start with "kernel.". */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** The evidence that was read. */
  readonly detail: string;
  /** What to do about it; null when nothing needs doing. */
  readonly fix: string | null;
}

/** Which kernel doctor judged, and how it read it. */
export interface JudgedKernel {
  /** "this machine", or "engine" (a container engine's kernel that is not this machine's, e.g. Docker Desktop's VM). */
  readonly judged: 'this machine' | 'engine';
  /** The kernel release read there; null when it could not be read. */
  readonly release: string | null;
  readonly description: string;
  readonly how: string;
  readonly why: string;
}

export interface DoctorReport {
  readonly ok: boolean;
  /** Present when the provider says where kube-proxy's kernel is. */
  readonly kernel?: JudgedKernel;
  readonly checks: readonly Check[];
}

export const check = (id: string, title: string, status: CheckStatus, detail: string, fix: string | null = null): Check => ({ id, title, status, detail, fix });

export const reportOf = (checks: readonly Check[]): DoctorReport => ({ ok: checks.every((c) => c.status !== 'fail'), checks });
