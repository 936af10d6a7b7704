/**
 * The Lambda entry point (`index.handler` in dist/traffic-agent.zip, runtime nodejs24.x).
 * The configuration is read and the logger and SQS client created on the first invocation,
 * then kept for the life of the container; until TRAFFIC_QUEUE_URL and LOG_LEVEL are right
 * every invocation fails with one line saying what is wrong.
 */
import { createAgent, type AgentHandler, type InvocationContext } from './agent.ts';
import { loadAgentConfig } from './config.ts';
import { createAgentLogger } from './logger.ts';
import type { AgentResponse } from './responses.ts';
import { createSqsSender } from './sqs-sender.ts';

let agent: AgentHandler | undefined;

function containerAgent(): AgentHandler {
  if (agent === undefined) {
    const config = loadAgentConfig(process.env);
    const logger = createAgentLogger(process.env);
    const sender = createSqsSender(config);
    logger.debug({ queueUrl: config.queueUrl, endpoint: config.endpoint ?? 'AWS', region: config.region }, 'traffic agent ready');
    agent = createAgent({ send: sender.send, logger });
  }
  return agent;
}

/** Lambda passes a full `Context`; the agent reads its request id and deadline. */
export async function handler(event: unknown, context?: InvocationContext): Promise<AgentResponse> {
  return containerAgent()(event, context);
}
