/**
 * Which queue the local tools (agent:invoke, traffic, redrive, the DLQ peek) use: TRAFFIC_QUEUE_URL
 * when set, otherwise the PIPELINE on the embedded endpoint that `npm start` serves (on
 * EMBEDDED_SQS_PORT, as the processor reads it), found by name.
 */
import { GetQueueUrlCommand, QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { AgentConfigError, type AgentConfig, loadAgentConfig } from '../../src/agent/config.ts';
import { ConfigError, integer, sqsConnection, type SqsConnection } from '../../src/platform/config.ts';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { EMBEDDED_HOST, EMBEDDED_PORT, PIPELINE_DLQ_NAME, PIPELINE_QUEUE_NAME } from '../../src/queues.ts';

const LOOKUP_TIMEOUT_MS = 3_000;
/** The account id fauxqs and LocalStack put in queue URLs. */
const LOCAL_ACCOUNT = '000000000000';

type Env = Record<string, string | undefined>;

/** Something a person can fix; its message is the one line to print. */
export class LocalTargetError extends Error {
  override name = 'LocalTargetError';
}

/**
 * The embedded endpoint `npm start` serves: 127.0.0.1 on EMBEDDED_SQS_PORT (4566 when unset), the
 * variable the processor reads, so a tool follows the processor it runs beside.
 */
export function embeddedEndpoint(env: Env = process.env): string {
  let port: number;
  try {
    port = integer(env, 'EMBEDDED_SQS_PORT', EMBEDDED_PORT, 0, 65_535);
  } catch (error) {
    if (error instanceof ConfigError) throw new LocalTargetError(error.message);
    throw error;
  }
  if (port === 0) {
    throw new LocalTargetError(
      'EMBEDDED_SQS_PORT=0 lets npm start pick any free port, which a tool cannot know: set EMBEDDED_SQS_PORT to the port npm start printed (or AWS_ENDPOINT_URL to its endpoint)',
    );
  }
  return `http://${EMBEDDED_HOST}:${port}`;
}

/** The message to print when nothing answers at `endpoint`. */
export function noEndpointMessage(endpoint: string): string {
  return `no SQS endpoint answers at ${endpoint}: run \`npm start\` first (it serves the embedded queue there), or set AWS_ENDPOINT_URL / TRAFFIC_QUEUE_URL`;
}

/** Whether `error` (or one of its causes) says nothing answered: refused, reset, unknown host, timed out. */
export function unreachable(error: unknown): boolean {
  const codes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);
  for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, name } = cause as { code?: string; name?: string };
    if ((code && codes.has(code)) || name === 'TimeoutError' || name === 'AbortError') return true;
  }
  return false;
}

/**
 * The agent configuration for local use. Without TRAFFIC_QUEUE_URL the queue URL is looked up
 * on AWS_ENDPOINT_URL (default: the embedded endpoint); if nothing answers there, the error
 * says to run `npm start` first.
 */
export async function resolveLocalTarget(env: Env = process.env): Promise<AgentConfig> {
  try {
    if (env.TRAFFIC_QUEUE_URL) return loadAgentConfig(env);
    const endpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || embeddedEndpoint(env);
    const probe = loadAgentConfig({ ...env, AWS_ENDPOINT_URL_SQS: endpoint, TRAFFIC_QUEUE_URL: `${endpoint}/${PIPELINE_QUEUE_NAME}` });
    const client = createSqsClient(probe);
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: PIPELINE_QUEUE_NAME }), {
        abortSignal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
      return { ...probe, queueUrl: QueueUrl! };
    } catch (error) {
      if (unreachable(error)) {
        throw new LocalTargetError(noEndpointMessage(endpoint));
      }
      if (error instanceof QueueDoesNotExist || (error as { name?: string }).name === 'QueueDoesNotExist') {
        throw new LocalTargetError(`${endpoint} has no queue named ${PIPELINE_QUEUE_NAME}: create it (npm start does) or set TRAFFIC_QUEUE_URL`);
      }
      throw new LocalTargetError(`could not look up ${PIPELINE_QUEUE_NAME} on ${endpoint}: ${(error as Error).message}`);
    } finally {
      client.destroy();
    }
  } catch (error) {
    if (error instanceof AgentConfigError) throw new LocalTargetError(error.message);
    throw error;
  }
}

/** `env` pointed at a resolved target: what the handler reads (createHandler), without changing process.env. */
export function targetEnv(config: AgentConfig, env: Env = {}): Env {
  return { ...env, TRAFFIC_QUEUE_URL: config.queueUrl, ...(config.endpoint !== undefined ? { AWS_ENDPOINT_URL_SQS: config.endpoint } : {}) };
}

/** Where the queue tools (redrive, the DLQ peek, the depths) work: the connection and both queue URLs. */
export interface LocalQueues {
  readonly connection: SqsConnection;
  readonly endpoint: string;
  /** Whether the endpoint is the embedded default (none was configured). */
  readonly embedded: boolean;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/**
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL, else the embedded endpoint; TRAFFIC_QUEUE_URL and
 * TRAFFIC_DLQ_URL, else the PIPELINE and its DLQ by their URLs on that endpoint. A bad value is a
 * LocalTargetError (one line).
 */
export function localQueues(env: Env = process.env): LocalQueues {
  try {
    const given = sqsConnection(env);
    const endpoint = given.endpoint ?? embeddedEndpoint(env);
    const connection = given.endpoint ? given : sqsConnection({ ...env, AWS_ENDPOINT_URL_SQS: endpoint });
    return {
      connection,
      endpoint,
      embedded: given.endpoint === undefined,
      queueUrl: env.TRAFFIC_QUEUE_URL || `${endpoint}/${LOCAL_ACCOUNT}/${PIPELINE_QUEUE_NAME}`,
      dlqUrl: env.TRAFFIC_DLQ_URL || `${endpoint}/${LOCAL_ACCOUNT}/${PIPELINE_DLQ_NAME}`,
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new LocalTargetError(error.message);
    throw error;
  }
}

/** localQueues for a command-line tool: a bad value ends it with one line, `<tool>: <what is wrong>` (exit 2). */
export function localQueuesOrExit(tool: string, env: Env = process.env): LocalQueues {
  try {
    return localQueues(env);
  } catch (error) {
    if (!(error instanceof LocalTargetError)) throw error;
    process.stderr.write(`${tool}: ${error.message}\n`);
    process.exit(2);
  }
}

/** What to print when nothing answers at the queues' endpoint. */
export function unreachableMessage(queues: LocalQueues): string {
  return queues.embedded
    ? noEndpointMessage(queues.endpoint)
    : `no SQS endpoint answers at ${queues.endpoint}: start it (LocalStack: make up), or point AWS_ENDPOINT_URL at one that runs`;
}
