import type { OptionSpecs, ParsedCommandLine } from './args.js';
import type { Io } from '../io/io.js';

export interface CommandModule {
  /** One line after the command name in `--help`, e.g. "[FILE|-] [--json]". */
  readonly usage: string;
  /** Paragraph(s) of help text. */
  readonly description: string;
  readonly options?: OptionSpecs;
  /** Accepts every setting's flag and resolves settings. */
  readonly settings?: boolean;
  /** Allowed number of positional arguments (default: none). */
  readonly positionals?: { readonly min: number; readonly max: number | null };
  /**
   * The first positional starts a command line of its own (like sudo or env): it and everything after
   * it are passed through untouched, so `local-up lab ipvsadm -Ln` needs no `--`.
   */
  readonly passThrough?: boolean;
  /** Returns the exit code. Expected failures throw LocalUpError. */
  run(io: Io, commandLine: ParsedCommandLine): Promise<number>;
}

export interface CommandEntry {
  readonly words: readonly string[];
  readonly summary: string;
  readonly load: () => Promise<{ readonly command: CommandModule }>;
}
