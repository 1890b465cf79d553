// The lab's library API: prepare Debian's kernel, then run commands or scripts
// inside a throwaway qemu VM that has real IPVS. Used by `local-up lab` and tests.
export type { LabAccelSetting } from './accel.js';
export type { PreparedKernel } from './cache.js';
export { readCurrentKernel } from './cache.js';
export { GUEST_IO_DIR, INIT_MARKER, RUN_MARKER } from './guest.js';
export type { PrepareResult } from './prepare.js';
export { prepareLab, PREPARE_SPACE_BYTES } from './prepare.js';
export type { LabDeps, LabMachine, LabRunOptions, LabRunResult } from './run.js';
export { ensureLabKernel, runInLab, runScriptInLab, RUN_DIR_PREFIX } from './run.js';
export type { DataPlaneParams, DataPlaneReport } from './dataplane.js';
export { DATAPLANE_SCRIPT, HACK_LAB_DIR, dataPlaneArgs, dataPlaneCommand, parseDataPlaneReports, podsSeen, runDataPlaneFixtures } from './dataplane.js';
