/**
 * Command-line options of the project's scripts. `--help` prints the usage; an unknown option, a
 * missing value or a bad number ends the script with one line saying what was wrong (after the
 * script's name, as its other errors) and the usage (exit 2), never a stack trace.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type WithHelp<T extends ParseArgsOptionsConfig> = T & { help: { type: 'boolean'; short: 'h' } };
type Parsed<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: WithHelp<T>; allowPositionals: true }>>;

export interface Cli<T extends ParseArgsOptionsConfig> {
  readonly values: Parsed<T>['values'];
  readonly positionals: string[];
  /** Ends the script: the message, then the usage (exit 2). */
  fail(message: string): never;
  /** An option's value as a whole number from `min` to `max`, or the script ends saying so. */
  wholeNumber(name: string, raw: string, min: number, max?: number): number;
}

export function readOptions<T extends ParseArgsOptionsConfig>(
  name: string,
  usage: string,
  options: T,
  { positionals = false, args = process.argv.slice(2) }: { positionals?: boolean; args?: string[] } = {},
): Cli<T> {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n${usage}\n`);
    process.exit(2);
  };
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<T>, allowPositionals: true, strict: true });
  } catch (error) {
    return fail((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  if (!positionals && parsed.positionals.length > 0) fail(`unexpected argument "${parsed.positionals[0]}"`);
  return {
    values: parsed.values,
    positionals: parsed.positionals,
    fail,
    wholeNumber(name, raw, min, max = Number.MAX_SAFE_INTEGER) {
      const n = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
        fail(`--${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, not "${raw}"`);
      }
      return n;
    },
  };
}
