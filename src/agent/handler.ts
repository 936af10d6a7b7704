/**
 * The Lambda entry point (`index.handler` in dist/traffic-agent.zip, runtime nodejs24.x).
 * The configuration is read and the logger and SQS client created on the first invocation,
 * then kept for the life of the container; until TRAFFIC_QUEUE_URL and LOG_LEVEL are right
 * every invocation fails with one line saying what is wrong.
 */
import type { Env } from '../platform/config.ts';
import { createAgent, type AgentHandler, type InvocationContext } from './agent.ts';
import { loadAgentConfig } from './config.ts';
import { createAgentLogger } from './logger.ts';
import type { AgentResponse } from './responses.ts';
import { createSqsSender } from './sqs-sender.ts';

export type LambdaHandler = (event: unknown, context?: InvocationContext) => Promise<AgentResponse>;

/**
 * A handler reading its configuration from `env` on its first invocation (Lambda: the process
 * environment; the local tools: the environment of the target they resolved, no global changed).
 */
export function createHandler(env: Env): LambdaHandler {
  let agent: AgentHandler | undefined;
  const containerAgent = (): AgentHandler => {
    if (agent === undefined) {
      const config = loadAgentConfig(env);
      const logger = createAgentLogger(env);
      const sender = createSqsSender(config);
      logger.debug({ queueUrl: config.queueUrl, endpoint: config.endpoint ?? 'AWS', region: config.region }, 'traffic agent ready');
      agent = createAgent({ send: sender.send, logger, allowedOrigins: config.allowedOrigins });
    }
    return agent;
  };
  // Lambda passes a full `Context`; the agent reads its request id and deadline.
  return async (event, context) => containerAgent()(event, context);
}

export const handler: LambdaHandler = createHandler(process.env);
