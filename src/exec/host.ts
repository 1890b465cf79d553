// Where kernel-facing commands and file reads happen: this machine, a kind node
// (through the container engine's exec), or the lab VM. Code that inspects a
// kernel takes a Host, never the file system directly.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RunOptions, RunResult, Runner } from './runner.js';

export interface ReadOptions {
  /** The file is gzip-compressed (/proc/config.gz); return its decompressed text. */
  gunzip?: boolean;
}

export interface Host {
  /** For messages: "this machine", "kind node local-up-control-plane". */
  readonly description: string;
  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult>;
  /** The file's text, or null when it does not exist or cannot be read. */
  readFile(path: string, options?: ReadOptions): Promise<string | null>;
  /** Entry names, or null when the directory does not exist. */
  listDir(path: string): Promise<string[] | null>;
}

export class LocalHost implements Host {
  readonly description: string;
  /**
   * @param root where this machine's files are read (HOST_ROOT): "/" normally, "/host" when
   * kube-local-up runs in a container with the host's root mounted there. Commands are not affected.
   */
  constructor(
    private readonly runner: Runner,
    private readonly root: string = '/',
  ) {
    this.description = root === '/' ? 'this machine' : `this machine (files under ${root})`;
  }

  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    return this.runner.run(file, args, options);
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | null> {
    try {
      const bytes = await readFile(join(this.root, path));
      return (options.gunzip === true ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch {
      return null;
    }
  }

  async listDir(path: string): Promise<string[] | null> {
    try {
      return await readdir(join(this.root, path));
    } catch {
      return null;
    }
  }
}

const READ_TIMEOUT_MS = 30_000;

/**
 * A host reached by prefixing every command, e.g. `docker exec NODE`. Files are
 * read with `cat` (or `zcat`) on the other side.
 */
export class CommandHost implements Host {
  constructor(
    readonly description: string,
    private readonly runner: Runner,
    private readonly prefix: readonly [string, ...string[]],
  ) {}

  run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    const [head, ...rest] = this.prefix;
    return this.runner.run(head, [...rest, file, ...args], options);
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | null> {
    const result = await this.run(options.gunzip === true ? 'zcat' : 'cat', ['--', path], { timeoutMs: READ_TIMEOUT_MS });
    return result.exitCode === 0 ? result.stdout : null;
  }

  async listDir(path: string): Promise<string[] | null> {
    const result = await this.run('ls', ['-1A', '--', path], { timeoutMs: READ_TIMEOUT_MS });
    if (result.exitCode !== 0) return null;
    return result.stdout.split('\n').filter((name) => name !== '');
  }
}
