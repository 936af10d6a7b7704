import { createAgent, type AgentHandler, type OutgoingMessage, type SendVisit } from '../../../src/agent/agent.ts';
import type { AgentResponse } from '../../../src/agent/responses.ts';
import { capturedLogger } from '../../support/captured-logger.ts';

export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

export interface RecordingAgent {
  readonly handle: AgentHandler;
  readonly sent: OutgoingMessage[];
  readonly logs: Array<Record<string, unknown>>;
}

export function recordingAgent(options: { send?: SendVisit; allowedOrigins?: ReadonlySet<string> } = {}): RecordingAgent {
  const sent: OutgoingMessage[] = [];
  const { lines: logs, logger } = capturedLogger('debug', 'traffic-agent');
  const send: SendVisit =
    options.send ??
    (async (message) => {
      sent.push(message);
    });
  const handle = createAgent({ send, logger, now: () => NOW, ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) });
  return { handle, sent, logs };
}

export function bodyOf(response: AgentResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}
