/**
 * Which queue the local tools (agent:invoke, traffic) send to: TRAFFIC_QUEUE_URL when set,
 * otherwise the PIPELINE on the embedded endpoint that `npm start` serves, found by name.
 */
import { GetQueueUrlCommand, QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { AgentConfigError, type AgentConfig, loadAgentConfig } from '../../src/agent/config.ts';
import { createSqsClient } from '../../src/platform/sqs.ts';
import { EMBEDDED_HOST, EMBEDDED_PORT, PIPELINE_QUEUE_NAME } from '../../src/queues.ts';

export const EMBEDDED_ENDPOINT = `http://${EMBEDDED_HOST}:${EMBEDDED_PORT}`;
const LOOKUP_TIMEOUT_MS = 3_000;

type Env = Record<string, string | undefined>;

/** Something a person can fix; its message is the one line to print. */
export class LocalTargetError extends Error {
  override name = 'LocalTargetError';
}

function unreachable(error: unknown): boolean {
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
    const endpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || EMBEDDED_ENDPOINT;
    const probe = loadAgentConfig({ ...env, AWS_ENDPOINT_URL_SQS: endpoint, TRAFFIC_QUEUE_URL: `${endpoint}/${PIPELINE_QUEUE_NAME}` });
    const client = createSqsClient(probe);
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: PIPELINE_QUEUE_NAME }), {
        abortSignal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
      return { ...probe, queueUrl: QueueUrl! };
    } catch (error) {
      if (unreachable(error)) {
        throw new LocalTargetError(
          `no SQS endpoint answers at ${endpoint}: run \`npm start\` first (it serves the embedded queue there), or set AWS_ENDPOINT_URL / TRAFFIC_QUEUE_URL`,
        );
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
