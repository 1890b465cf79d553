// A Host backed by recorded files, for kernel-facing logic in unit tests. The
// real kernel behaviour is proven in the lab tests; this double only replays
// what was recorded there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host, ReadOptions } from '../../src/exec/host.js';
import type { RunOptions, RunResult, Runner } from '../../src/exec/runner.js';
import { ROOT } from './cli.js';

export const KERNEL_FIXTURES = join(ROOT, 'test', 'fixtures', 'kernel');

export function fixture(...parts: string[]): string {
  return readFileSync(join(KERNEL_FIXTURES, ...parts), 'utf8');
}

export class FixtureHost implements Host {
  readonly description = 'a recorded kernel';
  constructor(
    public files: Record<string, string>,
    public dirs: Record<string, string[]>,
    private readonly runner?: Runner,
  ) {}

  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    if (this.runner === undefined) throw new Error(`FixtureHost: unexpected command ${file}`);
    return this.runner.run(file, args, options);
  }

  async readFile(path: string, _options?: ReadOptions): Promise<string | null> {
    return this.files[path] ?? null;
  }

  async listDir(path: string): Promise<string[] | null> {
    return this.dirs[path] ?? null;
  }
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** The Debian 6.1 kernel as booted in the lab, before or after loading the IPVS modules. */
export function debianHost(stage: 'before' | 'after', options: { withConfig?: boolean } = {}): FixtureHost {
  const d = 'debian-6.1.0-56-amd64';
  const rel = fixture(d, 'osrelease').trim();
  const files: Record<string, string> = {
    '/proc/sys/kernel/osrelease': `${rel}\n`,
    '/proc/modules': fixture(d, `proc-modules-${stage}`),
    [`/lib/modules/${rel}/modules.builtin`]: fixture(d, 'modules.builtin'),
    [`/lib/modules/${rel}/modules.dep`]: fixture(d, 'modules.dep.subset'),
  };
  if (options.withConfig !== false) files[`/boot/config-${rel}`] = fixture(d, 'config.subset');
  return new FixtureHost(files, { '/sys/module': lines(fixture(d, `sys-module-${stage}`)) });
}

/** The development machine: no module support, no IPVS, config in /proc/config.gz. */
export function devHost(): FixtureHost {
  const d = 'dev-6.18.44-fc';
  return new FixtureHost(
    { '/proc/sys/kernel/osrelease': fixture(d, 'osrelease'), '/proc/config.gz': fixture(d, 'config.subset') },
    { '/sys/module': lines(fixture(d, 'sys-module')) },
  );
}
