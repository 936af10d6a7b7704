/**
 * The agent's configuration from its environment. A missing or bad variable fails with one
 * line naming it and what is expected.
 */
export interface AgentConfig {
  /** The PIPELINE queue (TRAFFIC_QUEUE_URL). */
  readonly queueUrl: string;
  /** SQS endpoint (AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL; LocalStack sets the latter); undefined means AWS. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** A local endpoint without credentials in the environment gets fixed test credentials. */
  readonly localCredentials: boolean;
}

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
  constructor(message: string) {
    super(message);
    // One line in the Lambda log, not a stack trace through the config loader.
    this.stack = `${this.name}: ${message}`;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function httpUrl(env: Env, name: string, expected: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new AgentConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected ${expected}`);
  }
  return raw;
}

const QUEUE_URL = 'the http(s) URL of the PIPELINE queue, for example https://sqs.us-east-1.amazonaws.com/123456789012/dev-traffic-queue';
const ENDPOINT_URL = 'an http(s) URL such as http://localhost:4566';

export function loadAgentConfig(env: Env = process.env): AgentConfig {
  const queueUrl = httpUrl(env, 'TRAFFIC_QUEUE_URL', QUEUE_URL);
  if (queueUrl === undefined) throw new AgentConfigError(`TRAFFIC_QUEUE_URL is not set: expected ${QUEUE_URL}`);
  const endpoint = httpUrl(env, 'AWS_ENDPOINT_URL_SQS', ENDPOINT_URL) ?? httpUrl(env, 'AWS_ENDPOINT_URL', ENDPOINT_URL);
  return {
    queueUrl,
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    localCredentials: endpoint !== undefined && !env.AWS_ACCESS_KEY_ID,
  };
}
