/**
 * The one pino logger factory: the same error serializer and the same redaction for the
 * processor, the agent and the tools. JSON lines; pretty only when a person watches a terminal.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Never logged, even when an error or a request object carries them. */
export const REDACT_PATHS = ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.authorization', '*.Authorization', 'err.$response'];

interface SerializedError {
  type: string;
  message: string;
  stack: string;
  [key: string]: unknown;
}

/**
 * pino's standard `err` serializer (type, message, stack, causes) plus what the AWS SDK attaches
 * to a failed call: who failed ($fault), the HTTP status, request id and attempts ($metadata).
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.errWithCause(error) as SerializedError;
  const aws = error as { $fault?: string; $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } };
  if (aws.$fault !== undefined) serialized.$fault = aws.$fault;
  if (aws.$metadata !== undefined) {
    const { httpStatusCode, requestId, attempts } = aws.$metadata;
    serialized.$metadata = { httpStatusCode, requestId, attempts };
  }
  return serialized;
}

/** pino-pretty is a development package: a production install (the image) logs JSON only. */
function prettyAvailable(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    process.stderr.write(`${name}: pretty logs need the development package pino-pretty, which this install leaves out; logging JSON\n`);
    return false;
  }
}

/** Levels at which a terminal shows whole errors (stack, causes); above them an error is one line. */
const STACK_LEVELS = new Set(['debug', 'trace']);

/**
 * An error as one line for a person at a terminal: its type, code and message, and who failed
 * for an AWS SDK error. The stack stays in JSON logs and on a terminal at LOG_LEVEL=debug.
 */
export function oneLineError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const aws = error as { $fault?: string; $metadata?: { httpStatusCode?: number } };
  const status = aws.$metadata?.httpStatusCode;
  const causes: string[] = [];
  for (let cause = error.cause, depth = 0; cause instanceof Error && depth < 3; cause = cause.cause, depth++) causes.push(cause.message);
  const head = code && !error.message.includes(code) ? `${error.name} ${code}` : error.name;
  const tail = [status === undefined ? '' : ` (HTTP ${status})`, ...causes.map((m) => `; caused by ${m}`)].join('');
  // AggregateError (a refused dual-stack connect) has an empty message: its parts say why.
  const message = error.message || (error instanceof AggregateError ? error.errors.map((e) => String(e?.message ?? e)).join('; ') : '');
  return `${head}: ${message}${tail}`.replace(/\s*\n\s*/g, ' ');
}

/** Whether lines go to a person at a terminal (pretty), decided once per process as createLogger decides it. */
export function logsToTerminal(name: string): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.LOG_JSON && prettyAvailable(name);
}

export interface LoggerOptions {
  readonly name: string;
  readonly level: string;
  /**
   * Where lines go: a stream (benchmarks, tests), 'stderr' (written synchronously: the agent,
   * whose stdout is the tools' own output), or stdout by default (pretty on a terminal unless LOG_JSON is set).
   */
  readonly destination?: DestinationStream | 'stderr';
  /** For stdout: pretty or JSON, when the caller already asked logsToTerminal (default: ask it). */
  readonly pretty?: boolean;
}

/**
 * pino-pretty for a person: one line per entry (fields inline), no pid or host. Errors are one
 * line unless the level shows stacks.
 */
function prettyOptions(level: string) {
  const stacks = STACK_LEVELS.has(level);
  const options = { colorize: true, translateTime: 'SYS:HH:MM:ss.l', singleLine: true, ignore: 'pid,hostname' };
  return {
    // pino-pretty prints an `err` key on lines of its own; without stacks it is a string kept on the line.
    transport: { target: 'pino-pretty', options: stacks ? options : { ...options, errorLikeObjectKeys: [] } },
    ...(stacks ? {} : { serializers: { err: oneLineError } }),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level, redact: REDACT_PATHS, serializers: { err: serializeError } };
  if (options.destination === 'stderr') return pino(base, pino.destination({ dest: 2, sync: true }));
  if (options.destination) return pino(base, options.destination);
  const pretty = options.pretty ?? logsToTerminal(options.name);
  return pino({ ...base, ...(pretty ? prettyOptions(options.level) : {}) });
}
