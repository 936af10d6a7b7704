/**
 * The agent's configuration from its environment, read with the same readers as the
 * processor's (src/platform/config.ts). A missing or bad variable fails with one line
 * naming it and what is expected.
 */
import { ConfigError, httpUrl, logLevel, sqsConnection, type Env, type LogLevel, type SqsConnection } from '../platform/config.ts';

export interface AgentConfig extends SqsConnection {
  /** The PIPELINE queue (TRAFFIC_QUEUE_URL). */
  readonly queueUrl: string;
}

/** A configuration error of the agent (its name tells a Lambda log reader where it comes from). */
export class AgentConfigError extends ConfigError {
  override name = 'AgentConfigError';
  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }
}

const QUEUE_URL = 'the http(s) URL of the PIPELINE queue, for example https://sqs.us-east-1.amazonaws.com/123456789012/dev-traffic-queue';

/** Runs a reader, turning its ConfigError into an AgentConfigError. */
function asAgentError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError && !(error instanceof AgentConfigError)) throw new AgentConfigError(error.message);
    throw error;
  }
}

export function loadAgentConfig(env: Env = process.env): AgentConfig {
  return asAgentError(() => {
    const queueUrl = httpUrl(env, 'TRAFFIC_QUEUE_URL', QUEUE_URL);
    if (queueUrl === undefined) throw new AgentConfigError(`TRAFFIC_QUEUE_URL is not set: expected ${QUEUE_URL}`);
    return { queueUrl, ...sqsConnection(env) };
  });
}

/** LOG_LEVEL, with the processor's rule: a pino level, `info` when unset, anything else refused. */
export function loadAgentLogLevel(env: Env = process.env): LogLevel {
  return asAgentError(() => logLevel(env));
}
