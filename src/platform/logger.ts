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

export interface LoggerOptions {
  readonly name: string;
  readonly level: string;
  /**
   * Where lines go: a stream (benchmarks, tests), 'stderr' (written synchronously: the agent,
   * whose stdout is the tools' own output), or stdout by default (pretty on a terminal unless LOG_JSON is set).
   */
  readonly destination?: DestinationStream | 'stderr';
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level, redact: REDACT_PATHS, serializers: { err: serializeError } };
  if (options.destination === 'stderr') return pino(base, pino.destination({ dest: 2, sync: true }));
  if (options.destination) return pino(base, options.destination);
  const pretty = process.stdout.isTTY && !process.env.LOG_JSON && prettyAvailable(options.name);
  return pino({ ...base, ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}) });
}
