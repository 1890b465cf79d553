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

export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly Check[];
}

export const check = (id: string, title: string, status: CheckStatus, detail: string, fix: string | null = null): Check => ({ id, title, status, detail, fix });

export const reportOf = (checks: readonly Check[]): DoctorReport => ({ ok: checks.every((c) => c.status !== 'fail'), checks });
