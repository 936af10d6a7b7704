/** pino JSON logs; pretty only when a person is watching a terminal. */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, name = 'traffic-processor'): Logger {
  const pretty = process.stdout.isTTY && !process.env.LOG_JSON;
  return pino({
    name,
    level,
    // Never log credentials, even if an error object carries them.
    redact: ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.authorization'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
