/**
 * Command-line options of the project's scripts. `--help` (or `-h`) prints the usage, whatever else
 * is on the line; an unknown option, a missing value or a bad number ends the script with one
 * line saying what was wrong (after the script's name, as its other errors) and the usage
 * (exit 2), never a stack trace.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** The scripts' own options: `help` and `-h` are the helper's. */
type ScriptOptions = ParseArgsOptionsConfig & { help?: never };
type WithHelp<T extends ScriptOptions> = T & { help: { type: 'boolean'; short: 'h' } };
type Parsed<T extends ScriptOptions> = ReturnType<typeof parseArgs<{ options: WithHelp<T>; allowPositionals: true }>>;

export interface Cli<T extends ScriptOptions> {
  readonly values: Parsed<T>['values'];
  readonly positionals: string[];
  /** Ends the script: the message, then the usage (exit 2). */
  fail(message: string): never;
  /** An option's value as a whole number from `min` to `max`, or the script ends saying so. */
  wholeNumber(option: string, raw: string, min: number, max?: number): number;
}

/** Whether help was asked for anywhere before a `--` that ends the options. */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

export function readOptions<T extends ScriptOptions>(
  name: string,
  usage: string,
  options: T,
  { positionals = false, args = process.argv.slice(2) }: { positionals?: boolean; args?: string[] } = {},
): Cli<T> {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n${usage}\n`);
    process.exit(2);
  };
  if (asksForHelp(args)) {
    console.log(usage);
    process.exit(0);
  }
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<T>, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's message can run to several lines; its first says what was wrong.
    return fail((error as Error).message.split('\n')[0]);
  }
  if (!positionals && parsed.positionals.length > 0) fail(`unexpected argument "${parsed.positionals[0]}"`);
  return {
    values: parsed.values,
    positionals: parsed.positionals,
    fail,
    wholeNumber(option, raw, min, max = Number.MAX_SAFE_INTEGER) {
      const digits = /^\d+$/.test(raw);
      const n = Number(raw);
      if (digits && n > Number.MAX_SAFE_INTEGER) fail(`--${option} is too large: ${raw}`);
      if (!digits || n < min || n > max) {
        fail(`--${option} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, not "${raw}"`);
      }
      return n;
    },
  };
}
