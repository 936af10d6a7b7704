/** Command-line options of `npm run traffic`. Pure: a bad option throws one line for the user. */
import { parseArgs } from 'node:util';
import { DEFAULT_MIX, EVENT_SOURCES, MIX_KEYS, type MixError, parseMix, type EventSource, type Mix } from './generate.ts';

export interface TrafficArgs {
  readonly count: number;
  /** Invocations per second; 0 means as fast as the concurrency allows. */
  readonly rate: number;
  readonly concurrency: number;
  readonly mix: Mix;
  readonly sources: readonly EventSource[];
  readonly seed: number;
  readonly json: boolean;
  readonly help: boolean;
}

export const TRAFFIC_USAGE = `usage: npm run traffic -- [--count N] [--rate R] [--mix type-in=45,referrer=45,invalid=10]
                          [--concurrency C] [--sources direct,rest,http] [--seed S] [--json]
  --count N        visits to send (default 100, at most 10000000)
  --rate R         invocations started per second (default 100; 0 = as fast as possible)
  --mix ...        relative shares of ${MIX_KEYS.join(', ')} (default ${Object.entries(DEFAULT_MIX)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')})
  --concurrency C  invocations in flight at most, like warm Lambda containers (default 16)
  --sources ...    event shapes: direct invokes, API Gateway REST (rest) and HTTP API (http) events (default all)
  --seed S         seed of the generator: the same seed sends the same visits (default 1)
  --json           print the summary as JSON
queue: TRAFFIC_QUEUE_URL (+ AWS_ENDPOINT_URL), else dev-traffic-queue on AWS_ENDPOINT_URL, default http://127.0.0.1:4566 (npm start)`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)} is invalid: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

const OPTIONS = {
  count: { type: 'string', short: 'n' },
  rate: { type: 'string', short: 'r' },
  concurrency: { type: 'string', short: 'c' },
  mix: { type: 'string', short: 'm' },
  sources: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: OPTIONS }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function parseTrafficArgs(argv: readonly string[]): TrafficArgs {
  const values = parseOptions(argv);
  let mix: Mix = DEFAULT_MIX;
  if (values.mix !== undefined) {
    try {
      mix = parseMix(values.mix);
    } catch (error) {
      throw new UsageError(`--mix: ${(error as MixError).message}`);
    }
  }
  let sources: readonly EventSource[] = EVENT_SOURCES;
  if (values.sources !== undefined) {
    const list = values.sources.split(',').map((s) => s.trim());
    const unknown = list.find((s) => !(EVENT_SOURCES as readonly string[]).includes(s));
    if (unknown !== undefined || list.length === 0) {
      throw new UsageError(`--sources: ${JSON.stringify(unknown ?? '')} is not one of ${EVENT_SOURCES.join(', ')}`);
    }
    sources = list as EventSource[];
  }
  return {
    count: number('count', values.count, 100, 1, 10_000_000, true),
    rate: number('rate', values.rate, 100, 0, 1_000_000, false),
    concurrency: number('concurrency', values.concurrency, 16, 1, 1_024, true),
    mix,
    sources,
    seed: number('seed', values.seed, 1, 0, 2 ** 32 - 1, true),
    json: values.json ?? false,
    help: values.help ?? false,
  };
}
