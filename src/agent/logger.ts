/**
 * The agent's logger: pino JSON lines on stderr, written synchronously: Lambda sends stderr to
 * CloudWatch like stdout, a frozen container loses nothing buffered, and the local tools keep
 * stdout for their own output (the response JSON, the traffic summary). A bad LOG_LEVEL is
 * refused (AgentConfigError), as the processor refuses it.
 */
import type { Logger } from 'pino';
import type { Env } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { loadAgentLogLevel } from './config.ts';

export function createAgentLogger(env: Env = process.env): Logger {
  return createLogger({ name: 'traffic-agent', level: loadAgentLogLevel(env), destination: 'stderr' });
}
