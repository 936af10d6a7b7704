/** pino JSON logs; pretty only when a person is watching a terminal. */
import pino, { type DestinationStream, type Logger } from 'pino';

/** JSON to stdout (pretty on a terminal), or JSON to `destination` when one is given (benchmarks). */
export function createLogger(level: string, name = 'traffic-processor', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    // Never log credentials, even if an error object carries them.
    redact: ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.authorization'],
  };
  if (destination) return pino(options, destination);
  const pretty = process.stdout.isTTY && !process.env.LOG_JSON;
  return pino({
    ...options,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
