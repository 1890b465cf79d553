// Finds executables the way a root shell would: kube-proxy runs as root, and on
// Debian a normal user's PATH lacks the sbin folders where ipset, iptables and
// modprobe live, so those are searched too.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'] as const;

export function searchPath(env: Readonly<Record<string, string | undefined>>, extra: readonly string[] = SBIN_DIRS): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return [...new Set([...dirs, ...extra])];
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The full path of an executable, or null. A name with a slash is checked as given. */
export function findExecutable(name: string, env: Readonly<Record<string, string | undefined>>, extra: readonly string[] = SBIN_DIRS): string | null {
  if (name.includes('/')) return isAbsolute(name) && isExecutableFile(name) ? name : null;
  for (const dir of searchPath(env, extra)) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** PATH with the sbin folders appended, for commands run on the user's behalf. */
export function pathWithSbin(env: Readonly<Record<string, string | undefined>>): string {
  return searchPath(env).join(delimiter);
}
