/**
 * pino JSON lines on stderr, written synchronously: Lambda sends stderr to CloudWatch like
 * stdout, a frozen container loses nothing buffered, and the local tools keep stdout for
 * their own output (the response JSON, the traffic summary).
 */
import pino, { type Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createAgentLogger(env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  const requested = env.LOG_LEVEL;
  const level = requested !== undefined && LEVELS.includes(requested) ? requested : 'info';
  const logger = pino(
    {
      name: 'traffic-agent',
      level,
      redact: ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.authorization', '*.Authorization'],
    },
    pino.destination({ dest: 2, sync: true }),
  );
  if (requested !== undefined && requested !== '' && level !== requested) {
    logger.warn(`LOG_LEVEL=${JSON.stringify(requested)} is not one of ${LEVELS.join(', ')}; using info`);
  }
  return logger;
}
