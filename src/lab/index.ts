// The lab's library API: prepare Debian's kernel, then run commands or scripts
// inside a throwaway qemu VM that has real IPVS. Used by `local-up lab` and tests.
export type { LabAccelSetting } from './accel.js';
export type { PreparedKernel } from './cache.js';
export { RUN_MARKER } from './guest.js';
export { prepareLab } from './prepare.js';
export type { LabDeps, LabMachine } from './run.js';
export { runInLab, runScriptInLab } from './run.js';
export type { DataPlaneParams } from './dataplane.js';
export { HACK_LAB_DIR, dataPlaneCommand, podsSeen, runDataPlaneFixtures } from './dataplane.js';
export type { LabNetwork } from './qemu.js';
export { LAB_NET } from './qemu.js';
