/**
 * The agent's configuration from its environment, read with the same readers as the
 * processor's (src/platform/config.ts). A missing or bad variable fails with one line
 * naming it and what is expected.
 */
import { normaliseOrigin } from './cors.ts';
import { ConfigError, httpUrl, integer, logLevel, sqsConnection, type Env, type LogLevel, type SqsConnection } from '../platform/config.ts';

export interface AgentConfig extends SqsConnection {
  /** The PIPELINE queue (TRAFFIC_QUEUE_URL). */
  readonly queueUrl: string;
  /** The sites whose pages may send visits (AGENT_ALLOWED_ORIGINS); none when unset. */
  readonly allowedOrigins: ReadonlySet<string>;
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
    return { queueUrl, allowedOrigins: allowedOrigins(env), ...sqsConnection(env) };
  });
}

const ORIGINS = 'comma-separated site origins such as https://www.example.com,https://example.com (scheme, host and port, no path)';

/**
 * AGENT_ALLOWED_ORIGINS: the sites whose pages may send visits. Unset or empty allows no
 * browser page; requests without an Origin (curl, servers) are not concerned.
 */
export function allowedOrigins(env: Env): ReadonlySet<string> {
  const raw = env.AGENT_ALLOWED_ORIGINS;
  if (raw === undefined || raw.trim() === '') return new Set();
  const origins = new Set<string>();
  for (const entry of raw.split(',')) {
    const value = entry.trim();
    if (value === '') continue;
    const origin = normaliseOrigin(value);
    if (origin === undefined) throw new AgentConfigError(`AGENT_ALLOWED_ORIGINS has "${value}", which is not an origin: expected ${ORIGINS}`);
    origins.add(origin);
  }
  return origins;
}

/** LOG_LEVEL, with the processor's rule: a pino level, `info` when unset, anything else refused. */
export function loadAgentLogLevel(env: Env = process.env): LogLevel {
  return asAgentError(() => logLevel(env));
}

/** The agent's HTTP entry that `npm start` serves beside the embedded endpoint. */
export interface LocalEntryConfig {
  /** AGENT_PORT: 0 for any free port; undefined when turned off (`AGENT_PORT=off`). */
  readonly port: number | undefined;
  /** AGENT_ALLOWED_ORIGINS when set; otherwise the entry's own two demo origins. */
  readonly allowedOrigins: ReadonlySet<string> | undefined;
}

export const DEFAULT_AGENT_PORT = 8080;

/** What `npm start` reads for its local entry, besides the processor's own knobs. */
export const LOCAL_ENTRY_KNOBS = ['AGENT_PORT', 'AGENT_ALLOWED_ORIGINS'] as const;

export function loadLocalEntryConfig(env: Env): LocalEntryConfig {
  return asAgentError(() => {
    const off = env.AGENT_PORT?.trim().toLowerCase() === 'off';
    if (!off && env.AGENT_PORT && env.TRAFFIC_QUEUE_URL) {
      throw new AgentConfigError(
        'AGENT_PORT is set but so is TRAFFIC_QUEUE_URL: the local HTTP entry serves only the embedded default (a deployed agent has its function URL); unset one of them',
      );
    }
    const port = off ? undefined : integer(env, 'AGENT_PORT', DEFAULT_AGENT_PORT, 0, 65_535);
    const origins = allowedOrigins(env);
    return { port, allowedOrigins: origins.size > 0 ? origins : undefined };
  });
}

/** The two origins the local demo page is served from: two sites for the browser, one server. */
export function demoOrigins(port: number): readonly string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}
