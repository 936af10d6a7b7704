/**
 * `npm start`'s agent: the Lambda's own request path (createAgent, the same SQS sender) behind
 * the local HTTP entry, enqueueing on the embedded PIPELINE. The whole pipeline then runs from
 * one command: browser, agent, queue, processor, table.
 */
import type { Logger } from 'pino';
import { createAgent } from './agent.ts';
import { demoOrigins, type LocalEntryConfig } from './config.ts';
import { startAgentEntry, type AgentEntry } from './http-entry.ts';
import { createSqsSender } from './sqs-sender.ts';

export interface LocalAgent {
  readonly entry: AgentEntry;
  readonly allowedOrigins: ReadonlySet<string>;
  /** Stops taking visits, then closes the SQS client; a second call waits for the first. */
  close(): Promise<void>;
}

export interface LocalAgentOptions {
  readonly config: LocalEntryConfig & { readonly port: number };
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly logger: Logger;
}

export async function startLocalAgent(options: LocalAgentOptions): Promise<LocalAgent> {
  const { config, endpoint, queueUrl } = options;
  const logger = options.logger.child({ component: 'agent' });
  // The embedded endpoint is on this machine: its fixed local credentials are the right ones.
  const sender = createSqsSender({ queueUrl, endpoint, region: 'us-east-1', localCredentials: true });
  const allowedOrigins = new Set(config.allowedOrigins ?? []);
  const agent = createAgent({ send: sender.send, logger, allowedOrigins });
  let entry: AgentEntry;
  try {
    entry = await startAgentEntry({
      port: config.port,
      handler: agent,
      onError: (error) => logger.error({ err: error }, 'the agent could not answer a request'),
    });
  } catch (error) {
    sender.close();
    throw error;
  }
  // By default the demo page's origins, known only once the entry listens (port 0: any free port).
  if (config.allowedOrigins === undefined) for (const origin of demoOrigins(entry.port)) allowedOrigins.add(origin);
  // Closed at the first signal and again on the way out: the second call waits for the first.
  let closing: Promise<void> | undefined;
  return {
    entry,
    allowedOrigins,
    close: () => {
      closing ??= entry.close().then(() => sender.close());
      return closing;
    },
  };
}
