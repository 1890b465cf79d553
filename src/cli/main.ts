// The local-up command line: finds the command, parses its flags, runs it and
// turns expected failures into a message, a hint and a documented exit code.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODE_MEANINGS, ExitCode, LocalUpError, formatError, isLocalUpError, usageError } from '../errors.js';
import { LazyExecaRunner, terminateStartedChildren } from '../exec/lazy-runner.js';
import { GLOBAL_OPTIONS, commandStart, parseCommandLine } from './args.js';
import type { OptionSpecs, ParsedCommandLine } from './args.js';
import type { CommandEntry, CommandModule } from './command.js';
import type { Io } from '../io/io.js';
import { COMMANDS } from './registry.js';
import { settingSpecs } from '../config/settings.js';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * How long commands get to clean up after Ctrl-C before the process exits anyway (a second Ctrl-C
 * exits at once). Long enough for the local provider's whole stop on a slow machine (its pods, up
 * to POD_REMOVAL_BUDGET_MS; each component; kube-proxy --cleanup): a process that exits halfway
 * leaves running components, IPVS state and pods behind, which is worse than waiting.
 */
const INTERRUPT_GRACE_MS = 300_000;

export function findCommand(argv: readonly string[]): { entry: CommandEntry; rest: string[] } | null {
  let best: CommandEntry | null = null;
  for (const entry of COMMANDS) {
    const matches = entry.words.every((word, i) => argv[i] === word);
    if (matches && (best === null || entry.words.length > best.words.length)) best = entry;
  }
  return best === null ? null : { entry: best, rest: argv.slice(best.words.length) };
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function overviewHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  const lines = [
    'local-up: local Kubernetes clusters with kube-proxy in IPVS mode, checked before and proven after boot',
    '',
    'Usage: local-up <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Run `local-up <command> --help` for its options. Settings come from flags, the environment,',
    'then .env (see `local-up config show`).',
    '',
    'Exit codes:',
    ...Object.entries(EXIT_CODE_MEANINGS).map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`),
  ];
  return `${lines.join('\n')}\n`;
}

function formatOptions(options: OptionSpecs): string[] {
  return Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(34)} ${spec.description}${spec.multiple === true ? ' (repeatable)' : ''}`;
  });
}

export function commandHelp(entry: CommandEntry, command: CommandModule): string {
  const lines = [`Usage: local-up ${entry.words.join(' ')} ${command.usage}`.trimEnd(), '', command.description.trim(), '', 'Options:'];
  lines.push(...formatOptions({ ...(command.options ?? {}), ...GLOBAL_OPTIONS }));
  if (command.settings === true) {
    lines.push('', 'Settings (flag, or environment / .env variable):');
    for (const spec of Object.values(settingSpecs({}))) {
      const flag = `--${spec.flag}${spec.boolean === true ? '[=BOOL]' : ' VALUE'}`;
      lines.push(`  ${flag.padEnd(30)} ${spec.env}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `local-up config` (or `config nope`): the group's subcommands, as a usage error (exit 2); null when `word` names no group. */
export function commandGroup(word: string): LocalUpError | null {
  const members = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === word);
  if (members.length === 0) return null;
  const width = Math.max(...members.map((c) => c.words.join(' ').length));
  return new LocalUpError(ExitCode.usage, `${word}: which one? local-up ${word} needs a subcommand`, {
    details: members.map((c) => `local-up ${c.words.join(' ').padEnd(width)}  ${c.summary}`).join('\n'),
    hint: `run \`local-up ${word} <subcommand> --help\` for its options`,
  });
}

/** Options up to the command line, then the command line itself as positionals, untouched. */
function parsePassThrough(argv: readonly string[], command: CommandModule): ParsedCommandLine {
  const start = commandStart(argv, command.options ?? {}, command.settings === true);
  const head = argv.slice(0, start).filter((word, i) => !(word === '--' && i === start - 1));
  const parsed = parseCommandLine(head, command.options ?? {}, command.settings === true);
  return { ...parsed, positionals: [...parsed.positionals, ...argv.slice(start)] };
}

/** npm sets npm_config_dry_run=true when its own --dry-run is given (`npm run up --dry-run`). */
export const npmTookDryRun = (env: Readonly<Record<string, string | undefined>>): boolean => /^(true|1)$/i.test(env.npm_config_dry_run ?? '');

export async function runCommandLine(argv: readonly string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const topic = argv[0] === 'help' ? findCommand(argv.slice(1)) : null;
    if (topic !== null) {
      io.out(commandHelp(topic.entry, (await topic.entry.load()).command));
      return ExitCode.ok;
    }
    io.out(overviewHelp());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(`${version()}\n`);
    return ExitCode.ok;
  }
  const found = findCommand(argv);
  if (found === null) {
    const group = commandGroup(argv[0] ?? '');
    if (group !== null && (argv[1] === '--help' || argv[1] === '-h')) {
      io.out(`${group.details ?? ''}\n`);
      return ExitCode.ok;
    }
    if (group !== null) throw group;
    throw usageError(`unknown command: ${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}`, 'run `local-up --help` to list the commands');
  }
  const { command } = await found.entry.load();
  const commandLine = command.passThrough === true ? parsePassThrough(found.rest, command) : parseCommandLine(found.rest, command.options ?? {}, command.settings === true);
  if (commandLine.values.help === true) {
    io.out(commandHelp(found.entry, command));
    return ExitCode.ok;
  }
  if (npmTookDryRun(io.env)) {
    // `npm run up --dry-run` (no `--`): npm keeps the flag and sets npm_config_dry_run. Never act then.
    const name = found.entry.words.join(' ');
    if (command.options?.['dry-run'] === undefined) {
      throw usageError(`npm took --dry-run (npm_config_dry_run=true), and \`local-up ${name}\` has no dry run, so it did nothing`, `run it without --dry-run, or pass flags after \`--\`: npm run ${name} -- [flags]`);
    }
    io.err(`note: npm took --dry-run (npm_config_dry_run=true): this is a dry run; pass flags after \`--\` (npm run ${name} -- --dry-run)\n`);
    commandLine.values['dry-run'] = true;
  }
  const allowed = command.positionals ?? { min: 0, max: 0 };
  const count = commandLine.positionals.length;
  if (count < allowed.min || (allowed.max !== null && count > allowed.max)) {
    const name = found.entry.words.join(' ');
    throw usageError(
      count < allowed.min ? `${name}: missing argument` : `${name}: unexpected argument ${JSON.stringify(commandLine.positionals[allowed.max ?? 0])}`,
      `usage: local-up ${name} ${command.usage}`,
    );
  }
  return command.run(io, commandLine);
}

/**
 * stdout failed. A reader that stopped reading (`| head -1`: EPIPE) has all it wanted: end quietly.
 * Anything else (a full disk: ENOSPC) is a clear error instead of an unhandled 'error' event.
 */
function onOutputError(error: NodeJS.ErrnoException): void {
  terminateStartedChildren('SIGTERM');
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  const reason = error.code === 'ENOSPC' ? 'no space left on device' : (error.code ?? error.message);
  process.stderr.write(`${formatError(new LocalUpError(ExitCode.unavailable, `cannot write the output: ${reason}`, { hint: 'free some space, or send the output somewhere else' }))}\n`);
  process.exit(ExitCode.unavailable);
}

/** The process entry point: real streams, real runner, Ctrl-C handling, exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  const onInterrupt = (signal: NodeJS.Signals) => {
    if (interrupted) {
      terminateStartedChildren('SIGKILL');
      process.exit(ExitCode.interrupted);
    }
    interrupted = true;
    process.stderr.write(`\n${signal === 'SIGINT' ? 'interrupted' : `received ${signal}`}: stopping and cleaning up (again to force)\n`);
    controller.abort();
    terminateStartedChildren('SIGTERM');
    setTimeout(() => process.exit(ExitCode.interrupted), INTERRUPT_GRACE_MS).unref();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  process.stdout.on('error', onOutputError);
  // Nowhere left to report a failing stderr: drop it rather than crash.
  process.stderr.on('error', () => {});

  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    interactive: process.stderr.isTTY === true && process.env.TERM !== 'dumb' && process.env.CI === undefined,
    outputIsTerminal: process.stdout.isTTY === true && process.env.TERM !== 'dumb' && process.env.CI === undefined,
    stdinIsTTY: process.stdin.isTTY === true,
    signal: controller.signal,
    runner: new LazyExecaRunner(),
    projectRoot: PROJECT_ROOT,
  };

  let code: number;
  try {
    code = await runCommandLine(argv, io);
  } catch (error) {
    if (isLocalUpError(error)) {
      io.err(`${formatError(error)}\n`);
      code = error.exitCode;
    } else {
      io.err(`internal error (a bug in kube-local-up; please report it with this output):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      code = ExitCode.internal;
    }
  }
  terminateStartedChildren('SIGTERM');
  process.exitCode = interrupted ? ExitCode.interrupted : code;
}
