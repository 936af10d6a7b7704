/** pino JSON logs; pretty only when a person is watching a terminal. */
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';

/** pino-pretty is a development package: a production install (the image) logs JSON only. */
function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    process.stderr.write('traffic-processor: pretty logs need the development package pino-pretty, which this install leaves out; logging JSON\n');
    return false;
  }
}

/** JSON to stdout (pretty on a terminal), or JSON to `destination` when one is given (benchmarks). */
export function createLogger(level: string, name = 'traffic-processor', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    // Never log credentials, even if an error object carries them.
    redact: ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.authorization'],
  };
  if (destination) return pino(options, destination);
  const pretty = process.stdout.isTTY && !process.env.LOG_JSON && prettyAvailable();
  return pino({
    ...options,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
